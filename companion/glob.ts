/** Shell-style globs (`*`, `?`) over names such as models; everything else is literal. */
const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    re = new RegExp(`^${body}$`);
    if (cache.size > 1000) cache.clear();
    cache.set(glob, re);
  }
  return re;
}

export const matchesGlob = (name: string, glob: string): boolean => globToRegExp(glob).test(name);
export const matchesAny = (name: string, globs: readonly string[]): boolean => globs.some((g) => matchesGlob(name, g));
