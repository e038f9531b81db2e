"""Run the real OpenSpec CLI and `twinsync openspec` on a folder and report every JSON
document that differs (root, lastModified and durationMs ignored).

Usage: python3 compare_with_cli.py DIR   (DIR holds openspec/)
The CLI is the one .ci/run installs (target/openspec-cli); OPENSPEC_BIN overrides it.
The tests do the same comparison (tests/cli_equality.rs, on the corpus and mutated copies
of it); this script is for poking at a folder by hand.
"""
import json, os, subprocess, sys, shutil
env=dict(os.environ, OPENSPEC_TELEMETRY='0', DO_NOT_TRACK='1', OPENSPEC_NO_UPDATE_CHECK='1', CI='1')
OS=os.environ.get('OPENSPEC_BIN',os.path.join(os.path.dirname(__file__),'../../../target/openspec-cli/node_modules/.bin/openspec'))
TW=os.environ.get('TWINSYNC_BIN',os.path.join(os.path.dirname(__file__),'../../../target/debug/twinsync'))
def scrub(v):
    if isinstance(v,dict):
        return {k:scrub(x) for k,x in v.items() if k not in ('root','lastModified','durationMs')}
    if isinstance(v,list): return [scrub(x) for x in v]
    return v
def run(cmd, cwd):
    p=subprocess.run(cmd,cwd=cwd,capture_output=True,env=env)
    try: return scrub(json.loads(p.stdout)), p.returncode
    except Exception: return ('NOJSON', p.stdout[:300], p.stderr[:300]), p.returncode
def compare(d, cmds):
    bad=0
    for c in cmds:
        a=run([OS]+c,d); b=run([TW,'openspec']+c,d)
        if a!=b:
            bad+=1; print('DIFF', d, c); print(' cli:', json.dumps(a)[:1500]); print(' ours:', json.dumps(b)[:1500])
    return bad
if __name__=='__main__':
    d=sys.argv[1]
    ids=[x for x in os.listdir(d+'/openspec/changes') if os.path.isdir(d+'/openspec/changes/'+x) and x!='archive']
    specs=[]
    for r,ds,fs in os.walk(d+'/openspec/specs'):
        if 'spec.md' in fs: specs.append(os.path.relpath(r,d+'/openspec/specs'))
    cmds=[['list','--json','--sort','name'],['list','--specs','--json'],['validate','--all','--json'],['validate','--all','--strict','--json']]
    cmds+=[['show',i,'--json','--type','change'] for i in ids]+[['show',s,'--json','--type','spec'] for s in specs]
    print(d, 'diffs:', compare(d,cmds), 'of', len(cmds))
