#!/usr/bin/env node
// The package's `conveyor` bin: loads tsx so the TypeScript entry point runs as is.
require('tsx/cjs');
require('./conveyor.ts');
