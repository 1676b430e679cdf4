import { describe, expect, it } from 'vitest';
import { MemoryApprovalStore } from '../src/memory.js';
import { approvalStoreConformance } from '../src/testing.js';

describe('memory', () => {
  approvalStoreConformance(() => ({ store: new MemoryApprovalStore() }), { describe, it, expect });
});
