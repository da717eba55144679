#!/usr/bin/env node
// Runs the TypeScript demo launcher without a compile step.
import { tsImport } from "tsx/esm/api";

process.env.NEXT_TELEMETRY_DISABLED = "1";
await tsImport("../lib/demo/main.ts", import.meta.url);
