import type {Route} from "../core/routeTable.js";
import type {ServerCore} from "../core/serverCore.js";
import {sendOllamaError} from "./errorShape.js";
import {answerGeneration} from "./generation.js";
import {listModels, refuseModelManagement, runningModels, showModel, version} from "./models.js";
import {parseChatRequest, parseGenerateRequest} from "./parseRequest.js";

/** The path prefix of Ollama's API: unknown paths under it are answered in Ollama's error shape. */
export const ollamaPrefix = "/api/";

/** Ollama's own API (`ollama`'s clients, Open WebUI, Continue, …): its rows of the route table, its errors in Ollama's shape. */
export function ollamaRoutes(core: ServerCore): Route[] {
    const errors = sendOllamaError;
    const rows: Route[] = [
        {method: "GET", path: "/api/version", errors, handler: (context) => version(context)},
        {method: "HEAD", path: "/api/version", errors, handler: (context) => version(context)},
        {method: "GET", path: "/api/tags", errors, handler: (context) => listModels(core, context)},
        {method: "GET", path: "/api/ps", errors, handler: (context) => runningModels(core, context)},
        {method: "POST", path: "/api/show", errors, handler: (context) => showModel(core, context)},
        {method: "POST", path: "/api/chat", errors, handler: (context) => answerGeneration(core, context, "chat", parseChatRequest)},
        {method: "POST", path: "/api/generate", errors, handler: (context) => answerGeneration(core, context, "generate", parseGenerateRequest)}
    ];
    for (const path of ["/api/pull", "/api/push", "/api/create", "/api/copy"])
        rows.push({method: "POST", path, errors, handler: refuseModelManagement});
    rows.push({method: "DELETE", path: "/api/delete", errors, handler: refuseModelManagement});
    return rows;
}
