export * from "./core";
export * from "./platform";
export * from "./workbench";
export * from "./datasets";
