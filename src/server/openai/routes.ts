import type {Route} from "../core/routeTable.js";
import type {ServerCore} from "../core/serverCore.js";
import {answerCompletion} from "./completions.js";
import {sendOpenAiError} from "./errorShape.js";
import {listModels, retrieveModel} from "./models.js";
import {parseChatRequest, parseCompletionRequest} from "./parseRequest.js";
import {answerResponse} from "./responses.js";

/** OpenAI's API (and llama-server's, which follows it): its rows of the route table, its errors in OpenAI's shape. */
export function openAiRoutes(core: ServerCore): Route[] {
    const errors = sendOpenAiError;
    return [
        {method: "GET", path: "/v1/models", errors, handler: (context) => listModels(core, context)},
        {method: "GET", path: "/v1/models/:id", errors, handler: (context) => retrieveModel(core, context)},
        {method: "POST", path: "/v1/chat/completions", errors, handler: (context) => answerCompletion(core, context, parseChatRequest)},
        {method: "POST", path: "/v1/completions", errors, handler: (context) => answerCompletion(core, context, parseCompletionRequest)},
        {method: "POST", path: "/v1/responses", errors, handler: (context) => answerResponse(core, context)}
    ];
}
