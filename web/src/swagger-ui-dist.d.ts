// swagger-ui-dist ships no types; this is the part of its API /docs uses.
declare module "swagger-ui-dist/swagger-ui-es-bundle.js" {
  interface SwaggerUI {
    preauthorizeApiKey(scheme: string, key: string): void;
  }
  interface SwaggerUIOptions {
    url: string;
    dom_id: string;
    deepLinking?: boolean;
    onComplete?: () => void;
  }
  const SwaggerUIBundle: (options: SwaggerUIOptions) => SwaggerUI;
  export default SwaggerUIBundle;
}
