// make bench: Typst (typst.ts's Node compiler) on the Typst renditions of
// the leaflet (tests/bench/typst-leaflet.py).
//   node typst-bench.mjs loop N FONTDIR LANG=FILE.typ...  one process, one compiler,
//       its memo cache kept: 1 warm-up then N compilations and PDF exports per
//       language; prints CPU (user+sys, all threads) and wall ms per document
//   node typst-bench.mjs fresh FONTDIR FILE.typ OUT.pdf   one document, as a new process would
import fs from 'fs';
import { createRequire } from 'module';
const require = createRequire(process.env.TYPST_TS_MODULES + '/');
const { NodeCompiler } = require('@myriaddreamin/typst-ts-node-compiler');

function render(compiler, src) {
  const r = compiler.compile({ mainFileContent: src });
  if (r.hasError()) {
    r.printErrors();
    process.exit(1);
  }
  return [r.result.numOfPages, compiler.pdf(r.result, { creationTimestamp: 1795305600 })];
}

const mode = process.argv[2];
if (mode === 'fresh') {
  const [fonts, file, out] = process.argv.slice(3);
  const c = NodeCompiler.create({ fontArgs: [{ fontPaths: [fonts] }] });
  fs.writeFileSync(out, render(c, fs.readFileSync(file, 'utf8'))[1]);
} else {
  const n = Number(process.argv[3]);
  const c = NodeCompiler.create({ fontArgs: [{ fontPaths: [process.argv[4]] }] });
  for (const arg of process.argv.slice(5)) {
    const [lang, file] = arg.split('=');
    const src = fs.readFileSync(file, 'utf8');
    const [pages, pdf] = render(c, src);
    const cpu0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) render(c, src);
    const cpu = process.cpuUsage(cpu0), wall = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`typst ${lang} ${pages} pages ${pdf.length} bytes: ${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms CPU, ${(wall / n).toFixed(2)} ms wall per document (${n} in one process)`);
  }
}
