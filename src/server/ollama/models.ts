import {createRequire} from "node:module";
import {HttpError} from "../core/httpError.js";
import {readJsonBody} from "../core/readJsonBody.js";
import {asObject, optionalString} from "../core/requestFields.js";
import type {RouteContext} from "../core/routeTable.js";
import {sendJson} from "../core/sendJson.js";
import type {ServerCore} from "../core/serverCore.js";
import {describeModel} from "./modelDescription.js";

const packageJson = createRequire(import.meta.url)("../../../../package.json") as {version: string};

/** GET /api/version: mixtral's own version (clients show it; this is not an Ollama release). */
export function version({response}: RouteContext) {
    sendJson(response, 200, {version: packageJson.version});
}

/** GET /api/tags: the one model, under the name /v1/models lists. */
export async function listModels(core: ServerCore, {response}: RouteContext) {
    const model = core.model();
    const description = await describeModel(model.path);
    sendJson(response, 200, {models: [{
        name: core.modelId, model: core.modelId, modified_at: description.modifiedAt, size: description.sizeBytes,
        digest: description.digest, details: description.details
    }]});
}

/**
 * GET /api/ps: the model is always loaded while the server runs. size_vram is 0 on the CPU and the
 * file's size on a GPU backend (an upper bound: layers left on the CPU are not subtracted).
 */
export async function runningModels(core: ServerCore, {response}: RouteContext) {
    const model = core.model();
    const description = await describeModel(model.path);
    sendJson(response, 200, {models: [{
        name: core.modelId, model: core.modelId, size: description.sizeBytes, digest: description.digest, details: description.details,
        // Never unloaded: the farthest time Ollama's clients parse.
        expires_at: "9999-12-31T23:59:59Z",
        size_vram: model.backend === "cpu" ? 0 : description.sizeBytes,
        context_length: model.contextSize
    }]});
}

/**
 * POST /api/show: the model's details, GGUF metadata and chat template, for any name (requests
 * naming any model are answered by this one). `parameters` lists the context a request gets.
 */
export async function showModel(core: ServerCore, {request, response}: RouteContext) {
    const fields = asObject(await readJsonBody(request));
    // `name` is the older clients' spelling of `model`.
    const name = optionalString(fields, "model") ?? optionalString(fields, "name") ?? core.modelId;
    const model = core.model();
    const description = await describeModel(model.path);
    sendJson(response, 200, {
        modelfile: `# served by mixtral as ${JSON.stringify(name)}\nFROM ${model.path}\nPARAMETER num_ctx ${model.contextSize}\n`,
        parameters: `num_ctx ${model.contextSize}`,
        template: description.chatTemplate,
        details: description.details,
        model_info: description.modelInfo,
        // "tools": /api/chat takes tools (Open WebUI and other clients offer them only to models that say so).
        capabilities: ["completion", "tools"],
        modified_at: description.modifiedAt
    });
}

/** /api/pull, /api/push, /api/delete, /api/create, /api/copy: this server holds one model, chosen when it starts. */
export function refuseModelManagement({path}: RouteContext): never {
    const what = path.slice("/api/".length);
    throw new HttpError(400, `${what} is not supported: this server serves the one model it was started with; use \`mixtral pull\` and restart \`mixtral serve --model <name>\` to serve another.`, {code: "unsupported"});
}
