import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';

export async function register(_app: TypedApp, _ctx: AppContext) {}
