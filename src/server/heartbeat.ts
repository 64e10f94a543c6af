import { Hono } from "hono";

/**
 * GET /services/Heartbeat: 200 once every started role is ready, else 503; one `role=state`
 * line each, then (on the head) a line per remote cluster as last asked — which never
 * turns the head's own answer to 503.
 */
export function createHeartbeatApp(
  roles: () => ReadonlyArray<{ role: string; ready: boolean }>,
  remote: () => readonly string[] = () => [],
): Hono {
  const app = new Hono();
  app.get("/services/Heartbeat", (c) => {
    const states = roles();
    const ok = states.length > 0 && states.every((r) => r.ready);
    const body = [...states.map((r) => `${r.role}=${r.ready ? "ready" : "starting"}`), ...remote()].join("\n") + "\n";
    return c.text(body, ok ? 200 : 503);
  });
  return app;
}
