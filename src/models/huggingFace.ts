import {DownloadError} from "../errors.js";

/** Hugging Face's endpoint: HF_ENDPOINT (mirrors, tests), else huggingface.co — the variable llama.cpp and node-llama-cpp honour. */
function huggingFaceEndpoint(env: NodeJS.ProcessEnv = process.env): string {
    const value = env.HF_ENDPOINT;
    const endpoint = value != null && value !== "" ? value : "https://huggingface.co";
    let url: URL | undefined;
    try {
        url = new URL(endpoint);
    } catch {
        url = undefined;
    }
    if (url == null || (url.protocol !== "https:" && url.protocol !== "http:"))
        throw new DownloadError(`HF_ENDPOINT is not an http(s) URL: "${endpoint}".`, {
            hint: "Set it to a Hugging Face mirror such as https://hf-mirror.com, or unset it to use huggingface.co."
        });
    return endpoint.endsWith("/") ? endpoint : endpoint + "/";
}

/** Where a redirect leads, or one sentence when the server's Location header is not a URL. */
export function redirectTarget(location: string, from: string): string {
    try {
        return new URL(location, from).href;
    } catch (error) {
        const origin = new URL(from).origin;
        throw new DownloadError(`The server at ${origin} redirected to an invalid address (${JSON.stringify(location.slice(0, 200))}).`, {
            hint: "The server or a proxy in between is misconfigured; check HF_ENDPOINT or the URL, or try again later.",
            cause: error
        });
    }
}

/** The resolve URL Hugging Face serves a repository file from (a redirect to its CDN for LFS files). */
export function huggingFaceFileUrl(repo: string, file: string, revision = "main", env: NodeJS.ProcessEnv = process.env): string {
    const encoded = file.split("/").map(encodeURIComponent).join("/");
    return new URL(`${repo}/resolve/${encodeURIComponent(revision)}/${encoded}`, huggingFaceEndpoint(env)).href;
}

function isEndpointOrigin(url: URL, env: NodeJS.ProcessEnv) {
    return url.origin === new URL(huggingFaceEndpoint(env)).origin;
}

/**
 * Only https leaves this machine: plain http would let anyone on the path swap the file (and read
 * HF_TOKEN). The one exception is the endpoint the user configured in HF_ENDPOINT.
 */
export function assertAllowedUrl(href: string, env: NodeJS.ProcessEnv = process.env) {
    const url = new URL(href);
    if (url.protocol === "https:" || isEndpointOrigin(url, env)) return;
    throw new DownloadError(`Refusing to download over ${url.protocol.replace(":", "")}: ${url.origin}${url.pathname}`, {
        hint: "Use an https:// URL (plain http is only allowed for the server named in HF_ENDPOINT)."
    });
}

/**
 * HF_TOKEN goes only to a Hugging Face host, and only to the host the request was addressed to
 * (`requestedHref`): never to the CDN or any other host a redirect leads to.
 */
export function authHeaders(href: string, env: NodeJS.ProcessEnv = process.env, requestedHref = href): Record<string, string> {
    const token = env.HF_TOKEN;
    if (token == null || token === "") return {};
    // A token read from a file often keeps its line end; HTTP headers cannot carry it.
    if (/[\u0000-\u001f\u007f]/.test(token) || /[^\u0000-\u00ff]/.test(token))
        throw new DownloadError("HF_TOKEN contains a line break or another character a token cannot hold.", {
            hint: "Set it again without the trailing newline, e.g. export HF_TOKEN=\"$(tr -d '\\r\\n' < token.txt)\"."
        });
    const host = new URL(href).host;
    const huggingFaceHosts = new Set(["huggingface.co", "hf.co", new URL(huggingFaceEndpoint(env)).host]);
    return huggingFaceHosts.has(host) && host === new URL(requestedHref).host ? {authorization: `Bearer ${token}`} : {};
}

/** Redirects followed by hand (probe and transfer) before giving up. */
export const maxRedirects = 5;

export function tooManyRedirects(href: string): DownloadError {
    return new DownloadError(`Too many redirects for ${href}.`, {hint: "Check the URL and HF_ENDPOINT."});
}

/** An HTML answer is an error or login page, never a model: refused before any byte is saved. */
export function assertNotWebPage(contentType: string | undefined, where: string) {
    if (!/text\/html|application\/xhtml/i.test(contentType ?? "")) return;
    throw new DownloadError(`The server sent a web page instead of the model file for ${where}.`, {
        hint: "It is usually an error or login page: check the URL, HF_ENDPOINT, and HF_TOKEN for gated repositories."
    });
}

/** Removes HF_TOKEN from any text that may be shown (error messages, causes with --verbose). */
export function redactToken(text: string, env: NodeJS.ProcessEnv = process.env): string {
    const token = env.HF_TOKEN;
    return token != null && token.length >= 4 ? text.split(token).join("***") : text;
}
