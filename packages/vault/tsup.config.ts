import { defineConfig } from 'tsup';
import { packageBuildConfig } from '../../tsup.package.js';

export default defineConfig(packageBuildConfig());
