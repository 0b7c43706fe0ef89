// The Go text/template interpreter behind --format.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTemplate } from '../../../../src/cli/output/jsonfmt';
import { executeTemplate, goJSON, goSprintf, GoStruct, HEADER_FUNCS, parseTemplate, TemplateError } from '../../../../src/cli/output/template';

const run = (tmpl: string, data: unknown) => executeTemplate(parseTemplate(tmpl), data);

describe('Go templates', () => {
  const data = {
    Name: 'web',
    N: 3,
    Empty: '',
    List: ['a', 'b'],
    Map: { k: 'v', 'x-y': 'z' },
    Nested: { Deep: { Value: 42 } },
    Null: null,
  };

  it('prints fields, maps, lists and missing keys like Go', () => {
    assert.equal(run('{{.Name}} {{.N}} {{.List}} {{.Map}} {{.Nested.Deep.Value}} {{.Nope}} {{.Null}}', data), 'web 3 [a b] map[k:v x-y:z] 42 <no value> <nil>');
    assert.equal(run('{{.}}', 'plain'), 'plain');
    assert.equal(run('{{.Nope.Deeper}}', data), '<no value>');
  });

  it('supports functions, pipelines and parentheses', () => {
    assert.equal(run('{{json .List}} {{.Name | upper}} {{lower "ABC"}} {{index .Map "x-y"}} {{len .List}}', data), '["a","b"] WEB abc z 2');
    assert.equal(run('{{join (split "a,b,c" ",") "+"}} {{title "hello world"}} {{pad .Name 1 2}}| {{truncate .Name 2}}', data), 'a+b+c Hello World  web  | we');
    assert.equal(run('{{pad .Empty 3 3}}|{{printf "%-6s|%5d|%q|%.2f|%v" .Name .N .Name 3.14159 .List}}', data), '|web   |    3|"web"|3.14|[a b]');
    assert.equal(run('{{print "a" 1 2 "b"}} {{println "x"}}', data), 'a1 2b x\n');
    assert.equal(run('{{(index .List 1) | printf "<%s>"}}', data), '<b>');
    assert.equal(run('{{slice .Name 1}} {{slice .List 0 1}}', data), 'eb [a]');
  });

  it('supports if/else if/else, with, range, variables and comparisons', () => {
    assert.equal(run('{{if .Empty}}x{{else if eq .Name "web"}}web{{else}}other{{end}}', data), 'web');
    assert.equal(run('{{if and .N (not .Empty)}}yes{{end}}{{if or .Empty .Null}}no{{else}}-{{end}}', data), 'yes-');
    assert.equal(run('{{with .Nested.Deep}}{{.Value}}{{end}}{{with .Empty}}x{{else}}none{{end}}', data), '42none');
    assert.equal(run('{{range .List}}[{{.}}]{{end}} {{range $i, $v := .List}}{{$i}}={{$v}} {{end}}', data), '[a][b] 0=a 1=b ');
    assert.equal(run('{{range $k, $v := .Map}}{{$k}}:{{$v}};{{end}}{{range .Null}}x{{else}}empty{{end}}', data), 'k:v;x-y:z;empty');
    assert.equal(run('{{$n := .Name}}{{range .List}}{{$n}}{{.}} {{end}}', data), 'weba webb ');
    assert.equal(run('{{range .List}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', data), 'a');
    assert.equal(run('{{if lt .N 4}}lt{{end}}{{if ge .N 3}}ge{{end}}{{if ne .Name "x"}}ne{{end}}{{if eq .N 1 2 3}}in{{end}}', data), 'ltgenein');
  });

  it('trims whitespace and skips comments', () => {
    assert.equal(run('a  {{- .Name -}}  b {{/* a comment */}}c', data), 'awebb c');
    assert.equal(run('{{- /* only */ -}}\n x', data), 'x');
  });

  it('keeps "}}" inside strings and handles escapes', () => {
    assert.equal(run('{{"}}"}} {{`raw\\n`}} {{"tab\\tnl"}}', data), '}} raw\\n tab\tnl');
  });

  it('calls struct methods with arguments, and rejects unknown fields', () => {
    const s = new GoStruct('*formatter.ContainerContext', { Names: () => 'web', Label: (k: string) => (k === 'a' ? '1' : '') });
    assert.equal(run('{{.Names}} {{.Label "a"}}|{{.Label "b"}}|', s), 'web 1||');
    assert.throws(() => run('{{.Nope}}', s), { message: 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext' });
    assert.throws(() => run('x\n {{.Label}}', s), { message: 'template: :2:3: executing "" at <.Label>: wrong number of args for Label: want 1 got 0' });
    assert.throws(() => run('{{.Names.Foo}}', s), /can't evaluate field Foo in type string/);
  });

  it('renders a table header from a map with a Label method, keeping column names', () => {
    const header = new GoStruct('formatter.SubHeaderContext', { Label: (n: string) => n.split('.').pop()!.replace(/[-_]/g, ' ') }, { Names: 'NAMES', Labels: 'LABELS' });
    assert.equal(executeTemplate(parseTemplate('{{.Names}}\t{{.Label "com.example.my-label_x"}}\t{{json .Labels}}\t{{upper .Names}}\t{{.Other}}'), header, HEADER_FUNCS), 'NAMES\tmy label x\tLABELS\tNAMES\t<no value>');
  });

  it('reports parse errors like Go', () => {
    const err = (t: string) => {
      try {
        parseTemplate(t);
      } catch (e) {
        assert.ok(e instanceof TemplateError);
        return e.message;
      }
      return 'no error';
    };
    assert.equal(err('{{.ID'), 'template: :1: unclosed action');
    assert.equal(err('{{nope .ID}}'), 'template: :1: function "nope" not defined');
    assert.equal(err('{{if .A}}x'), 'template: :1: unexpected EOF');
    assert.equal(err('x{{end}}'), 'template: :1: unexpected {{end}}');
    assert.equal(err('a\nb{{"unterminated}}'), 'template: :2: unterminated quoted string');
    assert.equal(err('{{}}'), 'template: :1: missing value for command');
  });

  it('marshals structs as docker does for {{json .}} (sorted keys, HTML escaped)', () => {
    const s = new GoStruct('*x', { B: () => '<none>', A: () => 'a&b', Label: (k: string) => k, P: () => null });
    assert.equal(run('{{json .}}', s), '{"A":"a\\u0026b","B":"\\u003cnone\\u003e","P":null}');
    // Values themselves are not HTML-escaped (docker's json function).
    assert.equal(run('{{json .}}', { x: '<b>&' }), '{"x":"<b>&"}');
    assert.equal(goJSON('\u2028\x01"\\'), '"\\u2028\\u0001\\"\\\\"');
  });

  it('keeps inspect --format behaviour', () => {
    const d = { Id: 'abc', State: { Status: 'running', Pid: 42 }, Config: { Env: ['A=1'], Labels: { k: 'v' } } };
    assert.equal(renderTemplate('{{.State.Status}}\\t{{.State.Pid}}\\n{{json .Config}}', d), 'running\t42\n{"Env":["A=1"],"Labels":{"k":"v"}}');
    assert.throws(() => renderTemplate('{{.Id', d), { message: 'template parsing error: template: :1: unclosed action' });
  });

  it('formats like fmt.Sprintf for common verbs', () => {
    assert.equal(goSprintf('%s=%d %5.1f%% %x %-3v|', ['a', 7, 99.44, 255, 'b']), 'a=7  99.4% ff b  |');
    assert.equal(goSprintf('%s %s', ['only']), 'only %!s(MISSING)');
  });
});
