// The development server (`make dev`) and the Vitest setup. Production builds
// are made by scripts/build.mjs: three bundles with their own settings.
import { defineConfig } from "vitest/config";
import type { Plugin } from "vite";
import tailwindcss from "@tailwindcss/vite";
import { fileURLToPath } from "node:url";

const backend = process.env.PARLEY_DEV_BACKEND ?? "http://localhost:8080";

// The Go server's routes, in development: /admin/... is the dashboard,
// /widget the widget page and /widget.js the loader, straight from source.
function routes(): Plugin {
  return {
    name: "parley-dev-routes",
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const url = req.url ?? "/";
        const path = url.split("?")[0];
        if (path === "/" || path === "/admin" || path.startsWith("/admin/")) req.url = "/admin.html";
        else if (path === "/widget" || path === "/widget/") req.url = "/widget.html";
        else if (path === "/widget.js") req.url = "/src/loader/loader.ts";
        next();
      });
    },
  };
}

export default defineConfig({
  plugins: [tailwindcss(), routes()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": { target: backend, changeOrigin: true },
      "/ws": { target: backend, ws: true, changeOrigin: true },
      "/healthz": { target: backend },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
