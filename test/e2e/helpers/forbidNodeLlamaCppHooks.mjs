// Module resolution hook (runs on Node's loader thread): node-llama-cpp and its platform packages are off limits.
export async function resolve(specifier, context, nextResolve) {
    if (/^(node-llama-cpp|@node-llama-cpp\/)/.test(specifier))
        throw new Error(`node-llama-cpp was imported (${specifier} from ${context.parentURL})`);
    return nextResolve(specifier, context);
}
