export type GpuChoice = "auto" | "cuda" | "metal" | "vulkan" | "cpu";
export type Backend = "cuda" | "metal" | "vulkan" | "cpu";
