/** Requests to the metadata service from a chosen local address (instances are told apart by theirs). */
import { request } from "node:http";

export function metadataRequest(
  ec2Url: string,
  method: string,
  path: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(ec2Url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, localAddress: from, headers }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
