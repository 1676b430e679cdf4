// Tenantry on NestJS in one file: tenancy, roles and audit from @tenantry/nest; gapless numbers,
// four-eyes voids, a sealed secret and a verifiable audit trail, on in-memory backends.
// Compile with decorator metadata (swc or tsc, as `nest build` does). Env: JWT_SECRET, PORT.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Module, Param, Post, Put } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type ApprovalEngine, createApprovalEngine } from '@tenantry/approvals';
import { MemoryApprovalStore } from '@tenantry/approvals/memory';
import { type AuditLog, createAuditLog, generateCheckpointKeys } from '@tenantry/audit';
import { MemoryAuditSink } from '@tenantry/audit/memory';
import { requireTenant } from '@tenantry/core';
import { type FieldCrypto, createFieldCrypto, localKeyProvider } from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { Audited, CurrentTenant, Roles, TenancyModule } from '@tenantry/nest';
import { type LockedSequencer, createLockedSequencer, defineSeries } from '@tenantry/sequencer';
import { MemoryCounterStore, MemoryLockBackend } from '@tenantry/sequencer/memory';

interface Invoice {
  tenant: string;
  period: string;
  number: number;
  code: string;
  customer: string;
  status: 'ISSUED' | 'PENDING_VOID' | 'VOID';
}
const invoiceSeries = defineSeries({ key: 'invoice', period: 'yearly', format: 'INV-{yyyy}-{n:05}' });

/** Every Tenantry service, built once (swap the memory backends for /postgres ones in production). */
class Platform {
  readonly invoices: Invoice[] = [];
  readonly secrets = new Map<string, string>();
  readonly keys = generateCheckpointKeys();
  readonly audit: AuditLog = createAuditLog({
    sink: new MemoryAuditSink(),
    signingKey: this.keys.secretKey,
    publicKeys: [this.keys.publicKey],
  });
  readonly fields: FieldCrypto = createFieldCrypto({
    provider: localKeyProvider({ keys: { k1: process.env.TENANTRY_KEK ?? randomBytes(32).toString('base64') }, primary: 'k1' }),
    store: new MemoryDataKeyStore(),
  });
  readonly sequencer: LockedSequencer = createLockedSequencer({
    lock: new MemoryLockBackend(),
    store: new MemoryCounterStore(),
    highestCommitted: async (k) =>
      Math.max(0, ...this.invoices.filter((i) => i.tenant === k.tenant && i.period === k.period).map((i) => i.number)) || null,
  });
  readonly approvals: ApprovalEngine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: this.audit.port });
  constructor() {
    const find = (tenant: string, code: string) => this.invoices.find((i) => i.tenant === tenant && i.code === code);
    this.approvals.registerResource('invoice', {
      lock: ({ tenantId, resource }) => void Object.assign(find(tenantId, resource.id) ?? {}, { status: 'PENDING_VOID' }),
      unlock: ({ tenantId, resource }) => {
        const i = find(tenantId, resource.id);
        if (i?.status === 'PENDING_VOID') i.status = 'ISSUED';
      },
    });
    // Voiding keeps the number: a state, not a deletion.
    this.approvals.registerAction('invoice.void', {
      execute: ({ tenantId, request }) => void Object.assign(find(tenantId, request.resource.id) ?? {}, { status: 'VOID' }),
    });
  }
}

@Controller()
class InvoicesController {
  constructor(private readonly p: Platform) {} // injected by type: needs decorator metadata

  @Get('ops/invoices')
  list(@CurrentTenant() tenant: string): Invoice[] {
    return this.p.invoices.filter((i) => i.tenant === tenant);
  }

  @Post('ops/invoices')
  @Audited({ resource: 'invoice' })
  async issue(@Body() body: { customer?: string; issueDate?: string }): Promise<Invoice> {
    const issueDate = body.issueDate ?? new Date().toISOString().slice(0, 10);
    return this.p.sequencer.withNumber(invoiceSeries, { issueDate }, async (n) => {
      const invoice: Invoice = { tenant: n.tenant, period: n.period, number: n.number, code: n.formatted, customer: String(body.customer ?? ''), status: 'ISSUED' };
      this.p.invoices.push(invoice);
      return invoice;
    });
  }

  @Post('ops/invoices/:code/void')
  @HttpCode(202)
  requestVoid(@Param('code') code: string, @Body() body: { justification?: string }) {
    return this.p.approvals.request({ action: 'invoice.void', resource: { type: 'invoice', id: code }, justification: body.justification ?? 'void' });
  }

  @Post('ops/approvals/:id/approve')
  @Roles('MANAGER', 'TENANT_ADMIN')
  approve(@Param('id') id: string) {
    return this.p.approvals.approve({ requestId: id });
  }

  @Put('back-office/approval-policies')
  @Roles('TENANT_ADMIN')
  setPolicies(@Body() body: { policies?: unknown }) {
    return this.p.approvals.setPolicies({ policies: body.policies as never });
  }

  @Put('back-office/settings/smtp')
  @Roles('TENANT_ADMIN')
  async setSmtp(@Body() body: { password?: string }) {
    const sealed = await this.p.fields.seal(String(body.password ?? ''), { collection: 'settings', field: 'smtp' });
    this.p.secrets.set(requireTenant().tenantId, sealed);
    return { sealed: sealed.slice(0, 8) };
  }

  @Get('ops/audit')
  async audit() {
    return { verified: await this.p.audit.verify(), checkpoint: await this.p.audit.checkpoint() };
  }
}

const platform = new Platform();
@Module({
  imports: [
    TenancyModule.forRoot({
      auth: { key: { secret: process.env.JWT_SECRET ?? '' }, issuer: 'nest-minimal', audience: 'nest-minimal' },
      audit: platform.audit.port,
    }),
  ],
  controllers: [InvoicesController],
  providers: [{ provide: Platform, useValue: platform }],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  console.log(JSON.stringify({ port }));
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
void main();
