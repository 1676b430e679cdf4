// Preloaded with `--import` after tsx: the process fails as soon as anything resolves the mongodb
// driver (hooks registered later run first, so this sees every specifier before tsx does).
import { register } from 'node:module';

const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === 'mongodb' || specifier.startsWith('mongodb/')) {
    throw new Error('the mongodb driver was loaded');
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
