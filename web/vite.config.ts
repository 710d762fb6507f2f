import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` serves the console on :5173 and forwards the API to a running `catapult up`
// (Envoy's port; CATAPULT_URL overrides it), so the browser sees one origin as it does in
// production, where Envoy serves both.
const api = process.env.CATAPULT_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    // Hashed file names under assets/ are what Envoy caches as immutable.
    assetsDir: "assets",
    sourcemap: false,
    rolldownOptions: {
      // The console, and /docs (the API reference): a page of its own, so the console's
      // initial JavaScript never includes Swagger UI.
      input: { console: "index.html", docs: "docs/index.html" },
    },
    // Swagger UI is one 1.5 MB module, loaded only by /docs.
    chunkSizeWarningLimit: 1600,
  },
  server: {
    proxy: {
      "/catapult.v1.": api,
      "/api/": api,
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
