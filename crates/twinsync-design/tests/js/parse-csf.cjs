// Parses story files with Storybook's own CSF parser (@storybook/csf-tools) and prints,
// per file, the title and the stories (export name, id, name, play) it derives, as JSON.
const fs = require('fs');
const { loadCsf } = require('@storybook/csf-tools');

const out = [];
for (const fileName of process.argv.slice(2)) {
  const code = fs.readFileSync(fileName, 'utf8');
  const csf = loadCsf(code, { fileName, makeTitle: (t) => t }).parse();
  const stories = Object.entries(csf._stories).map(([exportName, s]) => ({
    exportName,
    id: s.id,
    name: s.name,
    play: Boolean(csf._storyAnnotations[exportName] && csf._storyAnnotations[exportName].play),
  }));
  out.push({ file: fileName, title: csf.meta.title, stories });
}
process.stdout.write(JSON.stringify(out));
