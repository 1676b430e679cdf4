/** Object keys of a snapshot: namespaced by tenant (T4), `<prefix>tenants/<tenant>/snapshots/<id>.{data,manifest.json}`. */
export function snapshotObjectKeys(
  prefix: string,
  tenantId: string,
  snapshotId: string,
): { data: string; manifest: string } {
  const base = `${prefix}tenants/${tenantId}/snapshots/${snapshotId}`;
  return { data: `${base}.data`, manifest: `${base}.manifest.json` };
}

/** Key prefix under which a tenant's GDPR exports are written: `<prefix>tenants/<tenant>/exports/<id>/`. */
export function exportPrefix(prefix: string, tenantId: string, exportId: string): string {
  return `${prefix}tenants/${tenantId}/exports/${exportId}/`;
}
