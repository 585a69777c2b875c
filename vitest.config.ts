import {defineConfig} from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Model-loading tests spawn processes and load the native engine: forks isolate them, and two
        // workers match the two cores of the project's machines.
        pool: "forks",
        maxWorkers: 2,
        testTimeout: 60_000,
        hookTimeout: 120_000
    }
});
