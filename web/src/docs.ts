// /docs: the interactive REST reference (Swagger UI, bundled from npm: no CDN) over the OpenAPI
// document Envoy serves. A key signed in to the console in this tab is filled in for "Try it out".
import "swagger-ui-dist/swagger-ui.css";
import "./docs.css";
import SwaggerUIBundle from "swagger-ui-dist/swagger-ui-es-bundle.js";

import { apiKey } from "./api/session";

const OPENAPI_URL = "/api/openapi.json";
// The securityDefinitions entry of envoy/openapi.swagger.json (the X-API-Key header).
const API_KEY_SCHEME = "ApiKey";

const ui = SwaggerUIBundle({
  url: OPENAPI_URL,
  dom_id: "#reference",
  // Deep links put an anchor inside each operation's toggle button (nested interactive controls).
  deepLinking: false,
  onComplete: () => {
    const key = apiKey();
    if (key) ui.preauthorizeApiKey(API_KEY_SCHEME, key);
  },
});
