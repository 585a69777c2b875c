/**
 * An error answered in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with its
 * HTTP status. The `openai` client turns these into its typed errors (BadRequestError, …).
 */
export class ApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
        readonly options: {type?: string, param?: string | null, code?: string | null, headers?: Record<string, string>} = {}
    ) {
        super(message);
    }

    get body() {
        return {error: {
            message: this.message,
            type: this.options.type ?? typeForStatus(this.status),
            param: this.options.param ?? null,
            code: this.options.code ?? null
        }};
    }
}

function typeForStatus(status: number): string {
    if (status === 401) return "authentication_error";
    if (status === 403) return "permission_error";
    if (status === 404) return "not_found_error";
    if (status === 429) return "rate_limit_error";
    if (status >= 500) return "server_error";
    return "invalid_request_error";
}

/** A parameter with the wrong type or value: 400 naming it. */
export function invalidParam(param: string, message: string): ApiError {
    return new ApiError(400, message, {param, code: "invalid_value"});
}
