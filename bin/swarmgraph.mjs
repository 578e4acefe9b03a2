#!/usr/bin/env node
// The `swarmgraph` command (serve | migrate | token): runs src/main.ts through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
