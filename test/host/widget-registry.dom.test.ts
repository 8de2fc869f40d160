import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { WidgetRegistry, isWidgetClass, tagFor } from '../../src/host/widget-registry.js';
import { parseAction, parseWidgetConfig } from '../../src/host/widget-config.js';

describe('WidgetRegistry', () => {
  test('defines function and class widgets; a class becomes a custom element', async () => {
    const registry = new WidgetRegistry();
    const fn = () => {};
    class Thing extends VidgetWidget {}
    registry.define('fn-thing', fn);
    registry.define('thing', Thing);
    assert.equal(await registry.resolve('fn-thing'), fn);
    assert.equal(await registry.resolve('thing'), Thing);
    assert.equal(isWidgetClass(Thing), true);
    assert.equal(isWidgetClass(fn), false);
    assert.equal(tagFor('thing'), 'vidget-thing');
    assert.equal(customElements.get('vidget-thing'), Thing);
    assert.equal(await registry.resolve('nope'), undefined);
  });

  test('rejects bad names, non-functions and a second definition of a type', () => {
    const registry = new WidgetRegistry();
    assert.throws(() => registry.define('Bad Name', () => {}), /lowercase/);
    assert.throws(() => registry.define('x', 'not a widget' as never), /class or a function/);
    registry.define('once', () => {});
    assert.throws(() => registry.define('once', () => {}), /already defined/);
  });

  test('waits for a type defined later (like customElements.whenDefined), up to a limit', async () => {
    const registry = new WidgetRegistry();
    const later = registry.resolve('later', 5_000);
    const fn = () => {};
    registry.define('later', fn);
    assert.equal(await later, fn);
    const started = Date.now();
    assert.equal(await registry.resolve('never', 30), undefined);
    assert.ok(Date.now() - started >= 25);
  });

  test('a type defined late resolves every entry that waited for it (three here, not every second one)', async () => {
    const registry = new WidgetRegistry();
    const waiting = [registry.resolve('late', 5_000), registry.resolve('late', 5_000), registry.resolve('late', 5_000)];
    const fn = () => {};
    registry.define('late', fn);
    assert.deepEqual(await Promise.all(waiting), [fn, fn, fn]);
  });

  test('loads a widget on demand through its loader, once', async () => {
    const registry = new WidgetRegistry();
    let loads = 0;
    registry.registerLoader('lazy', async () => {
      loads++;
      registry.define('lazy', () => {});
    });
    assert.equal(registry.has('lazy'), true);
    const [a, b] = [await registry.resolve('lazy'), await registry.resolve('lazy')];
    assert.equal(a, b);
    assert.equal(loads, 1);
  });
});

describe('parseWidgetConfig', () => {
  test('keeps good entries with defaults and reports each bad one by index and id', () => {
    const { entries, errors } = parseWidgetConfig([
      { id: 'ok', type: 'poll', start: 1, end: 5, props: { q: 'why' } },
      { id: 'open', type: 'chat' },
      { id: 'ok', type: 'poll' },
      { id: 'x', type: 'Poll' },
      { id: 'y', type: 'poll', start: -1 },
      { id: 'z', type: 'poll', position: 'somewhere' },
      'nope',
    ]);
    assert.deepEqual(
      entries.map((e) => [e.id, e.start, e.end, e.position]),
      [
        ['ok', 1, 5, 'top-right'],
        ['open', 0, Infinity, 'top-right'],
      ],
    );
    assert.deepEqual(
      errors.map((e) => [e.index, e.id]),
      [
        [2, 'ok'],
        [3, 'x'],
        [4, 'y'],
        [5, 'z'],
        [6, undefined],
      ],
    );
    assert.match(errors[0]!.message, /duplicate/);
    assert.deepEqual(parseWidgetConfig({}).errors[0]!.message, 'the widget config must be a JSON array');
  });

  test('pauseOnShow, narrow and label: kept when valid, reported when not', () => {
    const { entries, errors } = parseWidgetConfig([
      { id: 'q', type: 'quiz', pauseOnShow: true, narrow: 'below', label: 'Quiz time' },
      { id: 'plain', type: 'poll' },
      { id: 'bad-narrow', type: 'poll', narrow: 'sideways' },
      { id: 'bad-label', type: 'poll', label: 'x'.repeat(81) },
    ]);
    assert.deepEqual(
      entries.map((e) => [e.id, e.pauseOnShow, e.narrow, e.label]),
      [
        ['q', true, 'below', 'Quiz time'],
        ['plain', false, undefined, undefined],
      ],
    );
    assert.deepEqual(
      errors.map((e) => e.id),
      ['bad-narrow', 'bad-label'],
    );
    assert.match(errors[0]!.message, /chip, below or keep/);
  });

  test('actions: valid ones kept in order, invalid ones reported and skipped', () => {
    const { entries, errors } = parseWidgetConfig([
      {
        id: 'w',
        type: 'hotspot',
        onStart: ['pause'],
        onClick: [{ type: 'seek', time: 30 }, { type: 'openUrl', url: 'javascript:alert(1)' }, { type: 'openUrl', url: 'https://example.com/x' }, { type: 'launchMissiles' }],
      },
    ]);
    assert.deepEqual(entries[0]!.actions, {
      onStart: [{ type: 'pause' }],
      onClick: [
        { type: 'seek', time: 30 },
        { type: 'openUrl', url: 'https://example.com/x' },
      ],
    });
    assert.equal(errors.length, 2);
    assert.match(errors[0]!.message, /http or https/);
    assert.match(errors[1]!.message, /unknown action/);
    assert.equal(typeof parseAction({ type: 'seek', time: -1 }), 'string');
    assert.deepEqual(parseAction({ type: 'setVariable', name: 'score', value: 3 }), { type: 'setVariable', name: 'score', value: 3 });
  });
});
