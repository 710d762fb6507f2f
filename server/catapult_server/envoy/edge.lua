-- The Lua filter near the head of Catapult's Envoy filter chain (after grpc_web and the
-- compressor, before the body cap and the gRPC-JSON transcoder). Envoy runs envoy_on_request
-- for every request and envoy_on_response for every response on the listener.
--
-- The generator (catapult_server/envoy/filters.py) puts constants in front of this file:
--   METADATA       the stream dynamic-metadata namespace the client's method and path go to
--   LOCAL_REPLY    the response header local_reply_config sets on Envoy's own 400 replies to
--                  REST calls; its value is Envoy's response code details
--   WEB_*          how a web app's files are served (static_site.py): the index file, the
--                  directory of content-hashed files and the two caching policies, the content
--                  types by extension
--
-- Requests:
--   * remember the method and path as the client sent them: the transcoder rewrites both into
--     the gRPC call it makes (a REST GET becomes POST /catapult.v1.ModelService/ListModels), and
--     the access log and error messages should show what the client asked for;
--   * strip the /api prefix (/api/v1/... -> /v1/...): the transcoder matches the REST routes
--     before the router runs, so a route's prefix_rewrite would come too late;
--   * answer a GET of the web app from its directory when the route names one (web_root in
--     the route's metadata: `catapult envoy-config --web-root`), reading the file then.
-- Responses:
--   * Envoy's own 400 replies, already a JSON google.rpc.Status (local_reply_config) with
--     reason MALFORMED_REQUEST and the transcoder's text as message, get a readable message and,
--     when the transcoder's text names a field, reason INVALID_FIELD with the field in the
--     ErrorInfo metadata and a google.rpc.BadRequest, as the server's own errors have.
--     Every other response passes untouched and unbuffered.

local MAX_SHOWN_VALUE = 64  -- characters of a rejected value quoted back in a message

-- --- JSON strings ----------------------------------------------------------------------------

-- A valid UTF-8 copy of `s`: each byte that does not start a well-formed sequence becomes U+FFFD,
-- so a message quoting a client's bytes is still valid JSON.
local function valid_utf8(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local b = s:byte(i)
    local len, low, high = 0, 0x80, 0xBF  -- sequence length; allowed range of the second byte
    if b < 0x80 then len = 1
    elseif b >= 0xC2 and b <= 0xDF then len = 2
    elseif b >= 0xE0 and b <= 0xEF then
      len = 3
      if b == 0xE0 then low = 0xA0 elseif b == 0xED then high = 0x9F end  -- no overlong, no surrogate
    elseif b >= 0xF0 and b <= 0xF4 then
      len = 4
      if b == 0xF0 then low = 0x90 elseif b == 0xF4 then high = 0x8F end  -- no overlong, <= U+10FFFF
    end
    local ok = len > 0 and i + len - 1 <= n
    for k = 1, len - 1 do
      local c = ok and s:byte(i + k)
      if k == 1 then ok = ok and c >= low and c <= high else ok = ok and c >= 0x80 and c <= 0xBF end
    end
    if ok then
      out[#out + 1] = s:sub(i, i + len - 1)
      i = i + len
    else
      out[#out + 1] = "\239\191\189"
      i = i + 1
    end
  end
  return table.concat(out)
end

local function json_quote(s)
  local escaped = valid_utf8(s):gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end

local function utf8_char(code)
  if code >= 0xD800 and code <= 0xDFFF then code = 0xFFFD end  -- a lone surrogate
  if code < 0x80 then return string.char(code) end
  if code < 0x800 then
    return string.char(0xC0 + math.floor(code / 0x40), 0x80 + code % 0x40)
  end
  if code < 0x10000 then
    return string.char(0xE0 + math.floor(code / 0x1000), 0x80 + math.floor(code / 0x40) % 0x40,
      0x80 + code % 0x40)
  end
  return string.char(0xF0 + math.floor(code / 0x40000), 0x80 + math.floor(code / 0x1000) % 0x40,
    0x80 + math.floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
end

local SIMPLE_ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n",
  r = "\r", t = "\t" }

-- The string value of "key" in the flat JSON object `text` (Envoy's own serialisation of the
-- local reply), decoded; nil when it is not there.
local function json_string_field(text, key)
  local _, i = text:find('"' .. key .. '":"', 1, true)
  if i == nil then return nil end
  local out = {}
  i = i + 1
  while i <= #text do
    local c = text:sub(i, i)
    if c == '"' then return table.concat(out) end
    if c ~= "\\" then
      out[#out + 1] = c
      i = i + 1
    elseif text:sub(i + 1, i + 1) == "u" then
      local code = tonumber(text:sub(i + 2, i + 5), 16)
      if code == nil then return nil end
      i = i + 6
      local low = text:sub(i, i + 1) == "\\u" and tonumber(text:sub(i + 2, i + 5), 16)
      if code >= 0xD800 and code <= 0xDBFF and low and low >= 0xDC00 and low <= 0xDFFF then
        code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
        i = i + 6
      end
      out[#out + 1] = utf8_char(code)
    else
      local escaped = SIMPLE_ESCAPES[text:sub(i + 1, i + 1)]
      if escaped == nil then return nil end
      out[#out + 1] = escaped
      i = i + 2
    end
  end
  return nil
end

-- --- the request as the client sent it ---------------------------------------------------------

local function url_decode(s)
  s = s:gsub("+", " ")  -- the transcoder reads '+' as a space too (query_param_unescape_plus)
  return (s:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

-- Query parameter names as the transcoder sees them (proto names: pageSize -> page_size), each
-- with its first value.
local function query_parameters(path)
  local parameters = {}
  local query = path and path:match("%?(.*)$")
  if query == nil then return parameters end
  for pair in query:gmatch("[^&]+") do
    local name, value = pair:match("^([^=]*)=?(.*)$")
    name = url_decode(name):gsub("%u", function(c) return "_" .. c:lower() end)
    if parameters[name] == nil then parameters[name] = url_decode(value) end
  end
  return parameters
end

-- --- the transcoder's messages, made readable --------------------------------------------------

-- What a value of each type looks like, by the type name in the transcoder's message.
local EXPECTED = {
  TYPE_INT32 = "a 32-bit integer", TYPE_SINT32 = "a 32-bit integer", TYPE_SFIXED32 = "a 32-bit integer",
  TYPE_INT64 = "a 64-bit integer", TYPE_SINT64 = "a 64-bit integer", TYPE_SFIXED64 = "a 64-bit integer",
  TYPE_UINT32 = "an unsigned 32-bit integer", TYPE_FIXED32 = "an unsigned 32-bit integer",
  TYPE_UINT64 = "an unsigned 64-bit integer", TYPE_FIXED64 = "an unsigned 64-bit integer",
  TYPE_DOUBLE = "a number", TYPE_FLOAT = "a number",
  TYPE_BOOL = "a boolean (true or false)",
  TYPE_STRING = "a string",
  TYPE_BYTES = "base64-encoded bytes",
  ["type.googleapis.com/google.protobuf.Timestamp"] = "an RFC 3339 timestamp such as 2024-01-01T00:00:00Z",
  ["type.googleapis.com/google.protobuf.Duration"] = "a duration such as 1.5s",
  ["type.googleapis.com/google.protobuf.FieldMask"] = "a comma-separated list of field names",
  ["type.googleapis.com/google.protobuf.Struct"] = "a JSON object",
  ["type.googleapis.com/google.protobuf.ListValue"] = "a JSON list",
}

-- A value as the transcoder quoted it: a string in single quotes, anything else (5, true) bare.
local function shown(value, quoted)
  local inner = value:match('^"(.*)"$')
  if inner ~= nil then value, quoted = inner, true end
  if #value > MAX_SHOWN_VALUE then value = value:sub(1, MAX_SHOWN_VALUE) .. "\226\128\166" end  -- an ellipsis
  return quoted and ("'" .. value .. "'") or value
end

-- A field error: reason INVALID_FIELD, the field named in the ErrorInfo and a BadRequest.
local function invalid_field(field, description, message)
  return { reason = "INVALID_FIELD", field = field, description = description, message = message }
end

local function invalid_value(field, value, type_name, parameters)
  local expected = EXPECTED[type_name] or ("a valid " .. type_name:gsub("^.*/", ""))
  local query_value = parameters[field]
  local where = (query_value and "query parameter " or "field ") .. field
  local description
  if type_name:find("^type%.googleapis%.com/") then
    -- The transcoder puts its parser's complaint where the value would be: quote the query's.
    description = query_value and (shown(query_value, true) .. " is not " .. expected) or ("must be " .. expected)
  elseif value == "Starting an object on a scalar field" then
    -- "model: invalid value Starting an object on a scalar field for type name": the type is the field.
    where, description = "field " .. field .. "." .. type_name, "must be a single value, not an object"
    field = field .. "." .. type_name
  else
    description = shown(value) .. " is not " .. expected
  end
  return invalid_field(field, description, "invalid value for " .. where .. ": " .. description)
end

-- What to say instead of the transcoder's `text`; nil leaves the reply as it is.
local function explain(text, parameters)
  local name = text:match('^Could not find field "(.-)" in the type ".-"%.$')
  if name then
    return invalid_field(name, "unknown query parameter", "unknown query parameter '" .. name
      .. "': the parameters of each route are listed in /api/openapi.json")
  end
  local field, value, type_name = text:match("^([%w_%.%[%]]+): invalid value (.*) for type (%S+)$")
  if field then return invalid_value(field, value, type_name, parameters) end
  field = text:match("^([%w_%.%[%]]*): Proto field is not repeating, cannot start list%.$")
  if field == "" then
    return { reason = "MALFORMED_REQUEST", message = "the request body must be a JSON object, not a list" }
  elseif field then
    return invalid_field(field, "must not be a list", "invalid value for field " .. field .. ": must not be a list")
  end
  local query_value, body_value
  query_value, field, body_value = text:match('^The binding value "(.-)" of the field (%S+) is conflicting with the value "(.-)" in the body%.$')
  if field then
    local description = "the query says " .. shown(query_value, true) .. ", the body " .. shown(body_value, true)
    return invalid_field(field, description, "conflicting values for field " .. field .. ": " .. description)
  end
  -- The JSON parser's complaints come with the text around the error and a caret below it.
  local first_line = text:match("^([^\n]*)\n.*%^$")
  if first_line then
    return { reason = "MALFORMED_REQUEST", message = "the request body is not valid JSON: " .. first_line }
  end
  return nil
end

local function status_json(code, explained)
  local info = '{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":' .. json_quote(explained.reason)
    .. ',"domain":"catapult","metadata":{'
    .. (explained.field and ('"field":' .. json_quote(explained.field)) or "") .. "}}"
  local details = { info }
  if explained.field then
    details[2] = '{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":'
      .. json_quote(explained.field) .. ',"description":' .. json_quote(explained.description) .. "}]}"
  end
  return '{"code":' .. code .. ',"message":' .. json_quote(explained.message) .. ',"details":['
    .. table.concat(details, ",") .. "]}"
end

-- --- the web app, read from its directory when a file is asked for -------------------------------

local function read_file(filename)
  local file = io.open(filename, "rb")
  if file == nil then return nil end
  local content = file:read("*a")  -- nil for a directory
  file:close()
  return content
end

-- The web app's file for URL path `path` (a directory's is its index file): its content and its
-- path under the root; nil when there is none. Envoy has normalised the path (no "..");
-- hidden files, backslashes and NUL are never looked for.
local function web_file(root, path)
  if path:find("/%.") or path:find("\\", 1, true) or path:find("%z") then return nil end
  local candidates = { path .. WEB_INDEX }
  if path:sub(-1) ~= "/" then candidates = { path, path .. "/" .. WEB_INDEX } end
  for _, candidate in ipairs(candidates) do
    local content = read_file(root .. candidate)
    if content ~= nil then return content, candidate end
  end
  return nil
end

-- Answer with the file, else redirect to `otherwise` when the route gives one, else answer with
-- the app's index file: the app's own links (/models/123) work when opened directly.
local function serve_web_app(handle, root, otherwise, path)
  local content, served = web_file(root, path:match("^[^?#]*"))
  if content == nil and otherwise ~= nil then
    handle:respond({ [":status"] = "302", location = otherwise }, "")
    return
  end
  if content == nil then
    content, served = read_file(root .. "/" .. WEB_INDEX), "/" .. WEB_INDEX
  end
  if content == nil then
    handle:respond({ [":status"] = "404" }, "")  -- local_reply_config makes it a JSON Status
    return
  end
  local hashed = served:sub(1, #WEB_HASHED_DIR + 2) == "/" .. WEB_HASHED_DIR .. "/"
  handle:respond({
    [":status"] = "200",
    ["content-type"] = WEB_TYPES[(served:match("%.[^./]*$") or ""):lower()] or WEB_DEFAULT_TYPE,
    ["cache-control"] = hashed and WEB_IMMUTABLE or WEB_REVALIDATE,
  }, content)
end

-- --- Envoy's entry points --------------------------------------------------------------------------

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  local path = headers:get(":path")
  if path == nil then
    return
  end
  local metadata = request_handle:streamInfo():dynamicMetadata()
  metadata:set(METADATA, "method", headers:get(":method"))
  metadata:set(METADATA, "path", path)
  -- By the route of the path as it arrived: /api/anything is the API's (a 404 of its own).
  local route = request_handle:metadata()
  local root = route:get("web_root")
  if root ~= nil then
    serve_web_app(request_handle, root, route:get("otherwise"), route:get("path") or path)
    return
  end
  -- /api/v1/... -> /v1/..., /api/health -> /health, /api/openapi.json -> /openapi.json.
  if path == "/api" or path:sub(1, 5) == "/api/" or path:sub(1, 5) == "/api?" then
    local rest = path:sub(5)
    if rest == "" or rest:sub(1, 1) == "?" then
      rest = "/" .. rest
    end
    headers:replace(":path", rest)
    request_handle:clearRouteCache()
  end
end

function envoy_on_response(response_handle)
  local headers = response_handle:headers()
  local details = headers:get(LOCAL_REPLY)
  if details == nil then
    return
  end
  headers:remove(LOCAL_REPLY)
  if not details:find("grpc_json_transcode_failure", 1, true) then
    return
  end
  local body = response_handle:body()  -- buffers: a local reply is short and already complete
  local reply = body:getBytes(0, body:length())
  local text = json_string_field(reply, "message")
  local code = reply:match('"code":(%d+)')
  if text == nil or code == nil then
    return
  end
  local request = response_handle:streamInfo():dynamicMetadata():get(METADATA) or {}
  local explained = explain(text, query_parameters(request.path))
  if explained ~= nil then
    body:setBytes(status_json(code, explained))
  end
end
