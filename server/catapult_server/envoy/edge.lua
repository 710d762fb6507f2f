-- The Lua filter at the head of Catapult's Envoy filter chain, before the body cap and the
-- gRPC-JSON transcoder. Envoy runs envoy_on_request for every request on the listener.
--
-- It strips the /api prefix (/api/v1/... -> /v1/...): the transcoder matches the REST routes
-- before the router runs, so a route's prefix_rewrite would come too late.

-- /api/v1/... -> /v1/..., /api/health -> /health, /api/openapi.json -> /openapi.json.
function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  local path = headers:get(":path")
  if path == nil then
    return
  end
  if path == "/api" or string.sub(path, 1, 5) == "/api/" or string.sub(path, 1, 5) == "/api?" then
    local rest = string.sub(path, 5)
    if rest == "" or string.sub(rest, 1, 1) == "?" then
      rest = "/" .. rest
    end
    headers:replace(":path", rest)
    request_handle:clearRouteCache()
  end
end
