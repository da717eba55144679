// Loaded with --import into every app server worker (lib/serve/workers.ts). Next.js keeps whatever
// X-Forwarded-For a client sends, so without a proxy the app could not know who is calling; this
// writes the TCP peer's address into the header named by INDEXDECK_PEER_HEADER on each request,
// over anything the client sent under that name. Plain JavaScript: it runs before any TypeScript loader.
import http from "node:http";

const header = process.env.INDEXDECK_PEER_HEADER;
if (header) {
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, req, ...rest) {
    if (event === "request" && req && req.headers) req.headers[header] = (req.socket && req.socket.remoteAddress) || "";
    return emit.call(this, event, req, ...rest);
  };
}
