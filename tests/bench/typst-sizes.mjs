// make bench-sizes: what Typst (typst.ts's Node compiler) writes for the
// Typst renditions of the leaflet (tests/bench/typst-leaflet.py), in bytes:
// tagged (Typst's default), untagged, PDF/A-1b and PDF/UA-1.
//   node typst-sizes.mjs FONTDIR OUTDIR LANG=FILE.typ...
// Prints one line per language: LANG PAGES tagged untagged a-1b ua-1.
import fs from 'fs';
import { createRequire } from 'module';
const require = createRequire(process.env.TYPST_TS_MODULES + '/');
const { NodeCompiler } = require('@myriaddreamin/typst-ts-node-compiler');

const [fonts, outdir, ...docs] = process.argv.slice(2);
const c = NodeCompiler.create({ fontArgs: [{ fontPaths: [fonts] }] });
const variants = [['tagged', {}], ['untagged', { pdfTags: false }],
                  ['a-1b', { pdfStandard: 'a-1b' }], ['ua-1', { pdfStandard: 'ua-1' }]];
for (const doc of docs) {
  const [lang, file] = doc.split('=');
  const r = c.compile({ mainFileContent: fs.readFileSync(file, 'utf8') });
  if (r.hasError()) {
    r.printErrors();
    process.exit(1);
  }
  const sizes = variants.map(([name, opts]) => {
    const pdf = c.pdf(r.result, { creationTimestamp: 1795305600, ...opts });
    fs.writeFileSync(`${outdir}/typst-${lang}-${name}.pdf`, pdf);
    return pdf.length;
  });
  console.log([lang, r.result.numOfPages, ...sizes].join(' '));
}
