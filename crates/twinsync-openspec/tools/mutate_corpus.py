"""Build a mutated copy of the shared corpus (CRLF, BOM, stray fences, headers, tasks,
deltas inserted or lines deleted) to compare with compare_with_cli.py.

Usage: python3 mutate_corpus.py SEED OUTDIR
"""
import os, random, shutil, sys
seed=int(sys.argv[1]); out=sys.argv[2]
random.seed(seed)
src=os.path.join(os.path.dirname(os.path.abspath(__file__)),'../../../../shared/conformance/openspec/openspec')
dst=out+'/openspec'
shutil.rmtree(out, ignore_errors=True)
shutil.copytree(src+'/specs', dst+'/specs')
os.makedirs(dst+'/changes')
pool=[src+'/changes/archive/'+n for n in sorted(os.listdir(src+'/changes/archive'))]+[src+'/changes/'+n for n in sorted(os.listdir(src+'/changes')) if n not in('archive',) and os.path.isdir(src+'/changes/'+n)]
for p in random.sample(pool, 35):
    shutil.copytree(p, dst+'/changes/'+os.path.basename(p))
INS=['```','```md','- [~] odd task','## Notes','### Requirement: Injected','#### Scenario: injected','## REMOVED Requirements','## ADDED Requirements','## MODIFIED Requirements','## RENAMED Requirements','- FROM: `### Requirement: Injected`','- TO: `### Requirement: Other`','* [ ](x) link task','~~~~','# Why','## What Changes','- **auth:** add thing','## Purpose','## Requirements','**ID**: x','','   - [x] nested','1) [ ] numbered','## 1. Group','- [ ] 1.1 a','- [ ] 2.1 b']
def mutate(t):
    lines=t.split('\n')
    for _ in range(random.randint(1,10)):
        i=random.randrange(len(lines)+1)
        if random.random()<0.25 and lines: del lines[min(i,len(lines)-1)]
        else: lines.insert(i, random.choice(INS))
    t='\n'.join(lines)
    r=random.random()
    if r<0.2: t=t.replace('\n','\r\n')
    elif r<0.3: t='\ufeff'+t
    return t
for root,ds,fs in os.walk(dst):
    for f in fs:
        if f.endswith('.md') and random.random()<0.7:
            p=os.path.join(root,f); t=open(p,encoding='utf-8').read()
            open(p,'w',encoding='utf-8',newline='').write(mutate(t))
