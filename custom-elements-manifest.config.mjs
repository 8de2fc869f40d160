// `npm run build:manifest` (part of `npm run build`): custom-elements.json, for editors, Storybook
// and the `customElements` field of package.json. Generated from the sources: `<vidget-player>`
// and every built-in widget (widgets/<name>/<name>.ts; widgets/shared holds their private parts).
// test/package/custom-elements.dom.test.ts checks it against the elements' real attributes.

/** Lit `static properties` entries marked `state: true`, by class: internal, never attributes. */
const states = new Map();
/** Built-ins register through the widget registry, `widgets.define('poll', VidgetPoll)`, which defines `<vidget-poll>`. */
const registered = new Map();

/** What the analyzer cannot see by itself in this code base. */
function vidgetPlugin() {
  return {
    name: 'vidget',
    analyzePhase({ ts, node, moduleDoc }) {
      if (ts.isClassDeclaration(node) && node.name) {
        const properties = node.members.find((m) => ts.isPropertyDeclaration(m) && m.name.getText() === 'properties' && m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword));
        const init = properties?.initializer;
        if (init && ts.isObjectLiteralExpression(init)) {
          const internal = init.properties
            .filter(
              (p) =>
                ts.isPropertyAssignment(p) &&
                ts.isObjectLiteralExpression(p.initializer) &&
                p.initializer.properties.some((o) => ts.isPropertyAssignment(o) && o.name.getText() === 'state' && o.initializer.kind === ts.SyntaxKind.TrueKeyword),
            )
            .map((p) => p.name.getText());
          states.set(`${moduleDoc.path}#${node.name.text}`, new Set(internal));
        }
      }
      if (ts.isCallExpression(node) && node.expression.getText() === 'widgets.define') {
        const [type, definition] = node.arguments;
        if (type && ts.isStringLiteral(type) && definition && ts.isIdentifier(definition)) {
          const tag = type.text.includes('-') ? type.text : `vidget-${type.text}`;
          registered.set(`${moduleDoc.path}#${definition.text}`, tag);
        }
      }
    },
    moduleLinkPhase({ moduleDoc }) {
      for (const declaration of moduleDoc.declarations ?? []) {
        const key = `${moduleDoc.path}#${declaration.name}`;
        const internal = states.get(key);
        if (internal) {
          declaration.attributes = declaration.attributes?.filter((a) => !internal.has(a.fieldName ?? a.name));
          declaration.members = declaration.members?.filter((m) => !internal.has(m.name));
        }
        const tag = registered.get(key);
        if (tag) {
          declaration.customElement = true;
          declaration.tagName = tag;
          moduleDoc.exports = [...(moduleDoc.exports ?? []), { kind: 'custom-element-definition', name: tag, declaration: { name: declaration.name, module: moduleDoc.path } }];
        }
      }
    },
    packageLinkPhase({ customElementsManifest }) {
      // An event the analyzer found as `dispatchEvent(new PlayerErrorEvent(…))` has no name; the
      // class's `@fires` tag says it.
      for (const module of customElementsManifest.modules) for (const declaration of module.declarations ?? []) if (declaration.events) declaration.events = declaration.events.filter((e) => e.name);
      // The package ships the compiled modules (lib/), not the TypeScript the analyzer read.
      const shipped = (path) => path.replace(/^\/?((?:src|widgets)\/.*)\.[jt]s$/, 'lib/$1.js');
      const relink = (value) => {
        if (Array.isArray(value)) value.forEach(relink);
        else if (value && typeof value === 'object')
          for (const [key, inner] of Object.entries(value)) {
            if ((key === 'path' || key === 'module') && typeof inner === 'string') value[key] = shipped(inner);
            else relink(inner);
          }
      };
      relink(customElementsManifest.modules);
    },
  };
}

export default {
  globs: ['src/define.ts', 'src/player/vidget-player.ts', 'src/host/vidget-widget.ts', 'widgets/*/*.ts'],
  exclude: ['widgets/shared/**'],
  // The config's outdir wins over the command line's: the manifest test writes elsewhere through
  // this (a path relative to the working directory, which the analyzer joins it to).
  outdir: process.env.VIDGET_MANIFEST_DIR ?? '.',
  litelement: true,
  // package.json names the manifest itself (`customElements`); the analyzer would rewrite that file.
  packagejson: false,
  plugins: [vidgetPlugin()],
};
