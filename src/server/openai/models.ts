import {HttpError} from "../core/httpError.js";
import type {RouteContext} from "../core/routeTable.js";
import {sendJson} from "../core/sendJson.js";
import type {ServerCore} from "../core/serverCore.js";

/** GET /v1/models: the one model this server has, by its alias if it was given one. */
export function listModels(core: ServerCore, {response}: RouteContext) {
    sendJson(response, 200, {object: "list", data: [modelObject(core)]});
}

/**
 * GET /v1/models/{id}: the model object for the listed name or the file's id (as /v1/models lists
 * it); any other id is OpenAI's 404 `model_not_found`, though a completion naming it is served.
 */
export function retrieveModel(core: ServerCore, {response, params}: RouteContext) {
    const id = params.id ?? "";
    if (!core.isModelName(id))
        throw new HttpError(404, `The model \`${id}\` does not exist; this server has \`${core.modelId}\`.`, {param: "model", code: "model_not_found"});
    sendJson(response, 200, modelObject(core));
}

function modelObject(core: ServerCore) {
    return {id: core.modelId, object: "model", created: core.created, owned_by: "mixtral"};
}
