/**
 * `target.push(...items)` passes every item as an argument: past ~125k of them V8 throws "Maximum
 * call stack size exceeded" (a long chat message's tokens). This appends in bounded slices.
 */
const sliceLength = 8192;

export function appendAll<T>(target: T[], items: readonly T[]): T[] {
    for (let start = 0; start < items.length; start += sliceLength)
        target.push(...items.slice(start, start + sliceLength));
    return target;
}
