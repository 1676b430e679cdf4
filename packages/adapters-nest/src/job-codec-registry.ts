import type { JobContextCodec } from '@tenantry/core';

let registered: JobContextCodec | undefined;

/** @internal Called by `TenancyService` with the module's `jobCodec`. */
export function registerJobCodec(codec: JobContextCodec | undefined): void {
  registered = codec;
}

/** @internal The module's `jobCodec`, for `@WithTenant()` without an explicit codec. */
export function registeredJobCodec(): JobContextCodec | undefined {
  return registered;
}
