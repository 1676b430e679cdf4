// Tenantry on NestJS in one file: tenancy, roles and audit from @tenantry/nest; gapless numbers, four-eyes
// voids (a void keeps its number), a sealed secret and a verifiable audit trail, on in-memory backends.
// Compile with decorator metadata (swc or tsc, as `nest build` does). Env: JWT_SECRET, PORT.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Module, Param, Post, Put } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createApprovalEngine } from '@tenantry/approvals';
import { MemoryApprovalStore } from '@tenantry/approvals/memory';
import { createAuditLog, generateCheckpointKeys } from '@tenantry/audit';
import { MemoryAuditSink } from '@tenantry/audit/memory';
import { requireTenant } from '@tenantry/core';
import { createFieldCrypto, localKeyProvider } from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { Audited, CurrentTenant, Roles, TenancyModule } from '@tenantry/nest';
import { createLockedSequencer, defineSeries } from '@tenantry/sequencer';
import { MemoryCounterStore, MemoryLockBackend } from '@tenantry/sequencer/memory';

type Status = 'ISSUED' | 'PENDING_VOID' | 'VOID';
type Invoice = { tenant: string; period: string; number: number; code: string; customer: string };
type StoredInvoice = Invoice & { status: Status };
const invoiceSeries = defineSeries({ key: 'invoice', period: 'yearly', format: 'INV-{yyyy}-{n:05}' });

/** Every Tenantry service, built once (swap the memory backends for /postgres ones in production). */
class Platform {
  readonly invoices: StoredInvoice[] = [];
  readonly secrets = new Map<string, string>();
  readonly keys = generateCheckpointKeys();
  readonly audit = createAuditLog({
    sink: new MemoryAuditSink(),
    signingKey: this.keys.secretKey,
    publicKeys: [this.keys.publicKey],
  });
  readonly kek = process.env.TENANTRY_KEK ?? randomBytes(32).toString('base64');
  readonly fields = createFieldCrypto({
    provider: localKeyProvider({ keys: { k1: this.kek }, primary: 'k1' }),
    store: new MemoryDataKeyStore(),
  });
  readonly sequencer = createLockedSequencer({
    lock: new MemoryLockBackend(),
    store: new MemoryCounterStore(),
    highestCommitted: async (k) => {
      const mine = this.invoices.filter((i) => i.tenant === k.tenant && i.period === k.period);
      return Math.max(0, ...mine.map((i) => i.number)) || null;
    },
  });
  readonly approvals = createApprovalEngine({ store: new MemoryApprovalStore(), audit: this.audit.port });
  constructor() {
    const find = (t: string, code: string) => this.invoices.find((i) => i.tenant === t && i.code === code);
    const mark = (t: string, id: string, status: Status) => void Object.assign(find(t, id) ?? {}, { status });
    this.approvals.registerResource('invoice', {
      lock: ({ tenantId, resource }) => mark(tenantId, resource.id, 'PENDING_VOID'),
      unlock: ({ tenantId, resource }) => {
        if (find(tenantId, resource.id)?.status === 'PENDING_VOID') mark(tenantId, resource.id, 'ISSUED');
      },
    });
    this.approvals.registerAction('invoice.void', {
      execute: ({ tenantId, request }) => mark(tenantId, request.resource.id, 'VOID'),
    });
  }
}

@Controller()
class InvoicesController {
  constructor(private readonly p: Platform) {} // injected by type: needs decorator metadata

  @Get('ops/invoices')
  list(@CurrentTenant() tenant: string): StoredInvoice[] {
    return this.p.invoices.filter((i) => i.tenant === tenant);
  }

  @Post('ops/invoices')
  @Audited({ resource: 'invoice' })
  async issue(@Body() body: { customer?: string; issueDate?: string }): Promise<StoredInvoice> {
    const issueDate = body.issueDate ?? new Date().toISOString().slice(0, 10);
    return this.p.sequencer.withNumber(invoiceSeries, { issueDate }, async (n) => {
      const { tenant, period, number, formatted: code } = n;
      const invoice: StoredInvoice = {
        tenant,
        period,
        number,
        code,
        customer: String(body.customer),
        status: 'ISSUED',
      };
      this.p.invoices.push(invoice);
      return invoice;
    });
  }

  @Post('ops/invoices/:code/void')
  @HttpCode(202)
  requestVoid(@Param('code') code: string, @Body() body: { justification?: string }) {
    const resource = { type: 'invoice', id: code };
    return this.p.approvals.request({
      action: 'invoice.void',
      resource,
      justification: String(body.justification),
    });
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
    const at = { collection: 'settings', field: 'smtp' };
    const sealed = await this.p.fields.seal(String(body.password), at);
    this.p.secrets.set(requireTenant().tenantId, sealed);
    return { sealed: sealed.slice(0, 8) };
  }

  @Get('ops/audit')
  async audit() {
    return { verified: await this.p.audit.verify(), checkpoint: await this.p.audit.checkpoint() };
  }
}

const platform = new Platform();
const iss = 'nest-minimal';
const auth = { key: { secret: process.env.JWT_SECRET ?? '' }, issuer: iss, audience: iss };
@Module({
  imports: [TenancyModule.forRoot({ auth, audit: platform.audit.port })],
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
