import type {RouteContext} from "../core/routeTable.js";
import {sendJson} from "../core/sendJson.js";
import type {ServerCore} from "../core/serverCore.js";

/** GET /v1/models: the one model this server has. */
export function listModels(core: ServerCore, {response}: RouteContext) {
    sendJson(response, 200, {object: "list", data: [modelObject(core)]});
}

function modelObject(core: ServerCore) {
    return {id: core.modelId, object: "model", created: core.created, owned_by: "mixtral"};
}
