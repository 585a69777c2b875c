import {UsageError} from "../errors.js";

/**
 * An OpenAI base URL as OpenAI clients take it (`http://127.0.0.1:8080/v1`): http or https, no
 * query. A bare host (`http://127.0.0.1:8080`) gets `/v1`, where every server we know of serves the
 * API (llama-server also without it, Ollama and vLLM only with it). No trailing slash is kept.
 */
export function parseEndpoint(value: string): URL {
    let url: URL;
    try {
        url = new URL(value.trim());
    } catch (error) {
        throw new UsageError(`--endpoint "${value}" is not a URL.`, {hint: "Give the server's base URL, e.g. --endpoint http://127.0.0.1:8080/v1", cause: error});
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
        throw new UsageError(`--endpoint must be an http:// or https:// URL; got "${value}".`, {hint: "For example: --endpoint http://127.0.0.1:8080/v1"});
    if (url.username !== "" || url.password !== "")
        throw new UsageError("--endpoint must not carry a user name or password.", {hint: "Put the API key in MIXTRAL_API_KEY instead; it is sent as a Bearer token."});
    url.search = "";
    url.hash = "";
    const path = url.pathname.replace(/\/+$/, "");
    url.pathname = path === "" ? "/v1" : path;
    return url;
}

/** `base` + `/completions` etc., keeping the base's path. */
export function endpointRoute(base: URL, route: string): URL {
    const url = new URL(base.href);
    url.pathname = `${base.pathname.replace(/\/+$/, "")}/${route.replace(/^\/+/, "")}`;
    return url;
}

/** The base URL as a user typed it, for messages: no trailing slash. */
export function describeEndpoint(base: URL): string {
    return base.href.replace(/\/+$/, "");
}
