import { Hono } from "hono";

/** GET /services/Heartbeat: 200 once every started role is ready, else 503; one `role=state` line each. */
export function createHeartbeatApp(roles: () => ReadonlyArray<{ role: string; ready: boolean }>): Hono {
  const app = new Hono();
  app.get("/services/Heartbeat", (c) => {
    const states = roles();
    const ok = states.length > 0 && states.every((r) => r.ready);
    const body = states.map((r) => `${r.role}=${r.ready ? "ready" : "starting"}`).join("\n") + "\n";
    return c.text(body, ok ? 200 : 503);
  });
  return app;
}
