import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBatch } from '../../src/logd/byte_batch.ts';
import { FLUSH, MAX_LINE_BYTES, ProtocolParser, ROTATE, atoi, encodeBuffered, encodeLine, encodeRotateCount, type ControlCommand } from '../../src/logd/protocol.ts';

/**
 * What the daemon would do with a parse: file bytes, with commands shown inline as <kind:arg>. Parsed
 * twice, by a sink of data() calls only and by one that also offers its batch for runs of L lines
 * (as logd's does); both must give the same.
 */
function parse(chunks: Buffer[], end = true): string {
  const results = [false, true].map((offerBatch) => {
    let out = '';
    const batch = new ByteBatch();
    const drain = (): string => {
      const text = batch.take().toString('latin1');
      batch.written();
      return text;
    };
    const parser = new ProtocolParser({
      data: (source, start, stop) => batch.append(source, start, stop),
      command: (c: ControlCommand) => (out += drain() + `<${c.kind}${'count' in c ? `:${c.count}` : ''}${'on' in c ? `:${c.on}` : ''}>`),
      lines: offerBatch ? batch : undefined,
    });
    for (const c of chunks) parser.push(c);
    if (end) parser.end();
    return out + drain();
  });
  assert.equal(results[1], results[0], 'the run of L lines parses as line by line');
  return results[0]!;
}

const SAMPLE = 'Lfirst\nb0\nLsecond\nF\nT\nO\nunknown line\n\nLwith\0nul\nr2\nR trailing ignored\nb1\nr-3\nrabc\nL\nLlast';

test('each command of squid logfile-daemon protocol', () => {
  assert.equal(
    parse([Buffer.from(SAMPLE, 'latin1')]),
    'first\n<buffered:false>second\n<flush><truncate><reopen>unknown line\n\nwith<rotateCount:2><rotate><buffered:true><rotateCount:-3><rotateCount:0>\nlast',
  );
});

test('a last line without newline is kept until end()', () => {
  assert.equal(parse([Buffer.from('Lone\nLtwo')], false), 'one\n');
});

test('input split at every byte boundary parses as when it arrives whole', () => {
  const whole = Buffer.from(SAMPLE, 'latin1');
  const expected = parse([whole]);
  for (let i = 0; i <= whole.length; i++) {
    assert.equal(parse([whole.subarray(0, i), whole.subarray(i)]), expected, `split at ${i}`);
  }
  const bytes = [...whole].map((b) => Buffer.from([b]));
  assert.equal(parse(bytes), expected, 'one byte per chunk');
});

test('lines longer than fgets buffer are cut into 65535-byte pieces, each dispatched on its first byte', () => {
  const head = 'L' + 'x'.repeat(MAX_LINE_BYTES - 1);
  const input = Buffer.from(`${head}Rest\nLok\n`);
  const expected = `${'x'.repeat(MAX_LINE_BYTES - 1)}<rotate>ok\n`;
  assert.equal(parse([input]), expected);
  // and the same when the long line arrives in pieces
  assert.equal(parse([input.subarray(0, 1000), input.subarray(1000, 70000), input.subarray(70000)]), expected);
  assert.equal(parse([input.subarray(0, MAX_LINE_BYTES), input.subarray(MAX_LINE_BYTES)]), expected);
});

test('consumed counts the bytes of complete lines only', () => {
  const parser = new ProtocolParser({ data: () => {}, command: () => {} });
  parser.push(Buffer.from('Labc\nLde'));
  assert.equal(parser.consumed, 5);
  parser.push(Buffer.from('f\n'));
  assert.equal(parser.consumed, 10);
});

test('atoi reads like C', () => {
  for (const [text, value] of [['12\n', 12], [' 7x', 7], ['-4', -4], ['+3', 3], ['x1', 0], ['', 0]] as const) {
    const b = Buffer.from(text);
    assert.equal(atoi(b, 0, b.length), value, JSON.stringify(text));
  }
});

test('encodeLine frames one line and escapes newlines inside it', () => {
  assert.equal(encodeLine('a b'), 'La b\n');
  assert.equal(encodeLine('a\nb\r'), 'La\\nb\\r\n');
});

test('what the encoders write parses back to the same commands', () => {
  const text = encodeLine('x') + encodeBuffered(false) + encodeRotateCount(4) + ROTATE + FLUSH + encodeBuffered(true);
  assert.equal(parse([Buffer.from(text)]), 'x\n<buffered:false><rotateCount:4><rotate><flush><buffered:true>');
});
