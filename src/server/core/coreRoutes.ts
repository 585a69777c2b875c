import {loadingError} from "./httpError.js";
import {renderMetrics} from "./metrics.js";
import type {Route} from "./routeTable.js";
import {sendJson} from "./sendJson.js";
import type {ServerCore} from "./serverCore.js";

/** Routes of the server itself, whatever the dialects: /health (no key needed) and Prometheus' /metrics. */
export function coreRoutes(core: ServerCore): Route[] {
    const health: Route["handler"] = ({response}) => {
        if (!core.loaded) throw loadingError();
        sendJson(response, 200, {status: "ok"});
    };
    return [
        {method: "GET", path: "/health", public: true, handler: health},
        // Health checkers (load balancers, `curl -I`) often ask with HEAD: the same status, no body.
        {method: "HEAD", path: "/health", public: true, handler: health},
        {
            method: "GET", path: "/metrics",
            handler({response}) {
                const text = renderMetrics(core.requests, core.stats, process.memoryUsage());
                response.writeHead(200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"});
                response.end(text);
            }
        }
    ];
}
