#!/usr/bin/env node
// `glimpse` / `npx glimpse`: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/glimpse.ts');
