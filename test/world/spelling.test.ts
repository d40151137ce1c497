// The typo corrector and the language statistics behind the tokenizer decision.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vocabulary } from '../../world/generate.ts';
import { Rng } from '../../world/rng.ts';
import { editDistance, SpellingCorrector } from '../../world/spelling.ts';
import { languageStats, slip } from '../../world/v2-stats.ts';
import { QUESTION_TEMPLATES_V2 } from '../../world/v2-questions.ts';

test('edit distance counts drops, additions, changes and swaps of neighbours as one', () => {
  assert.equal(editDistance('circle', 'circle'), 0);
  assert.equal(editDistance('circle', 'cirle'), 1);
  assert.equal(editDistance('circle', 'cirlce'), 1);
  assert.equal(editDistance('circle', 'circlet'), 1);
  assert.equal(editDistance('circle', 'cirgle'), 1);
  assert.equal(editDistance('circle', 'crlce'), 2);
  assert.equal(editDistance('circle', 'square'), 3, 'capped at limit + 1');
});

test('typos one slip from exactly one vocabulary word are corrected; short, ambiguous or far ones are not', () => {
  const c = new SpellingCorrector(vocabulary(2));
  assert.equal(c.correct('crimsn'), 'crimson');
  assert.equal(c.correct('cirlce'), 'circle');
  assert.equal(c.correct('squre'), 'square');
  assert.equal(c.correct('seashor'), 'seashore');
  assert.equal(c.correct('circle'), 'circle');
  assert.equal(c.correct('rd'), null, 'too short to guess');
  assert.equal(c.correct('dog'), null);
  assert.equal(c.correct('giraffe'), null);
  assert.equal(new SpellingCorrector(['card', 'cart']).correct('carx'), null, 'two words are as near');
  const folding = new SpellingCorrector(['centre', 'center', 'circle'], (w) => (w === 'center' ? 'centre' : w));
  assert.equal(folding.correct('centee'), 'centre', 'two spellings of one word are one meaning');
  assert.equal(c.correct('centee'), null, 'without folding they are two words');
});

test('slips change the word by one edit', () => {
  const rng = new Rng(1, 'slips');
  for (let i = 0; i < 500; i++) {
    const typed = slip('triangle', rng);
    assert.ok(editDistance('triangle', typed) <= 1, typed);
  }
});

test('language statistics add up: templates, words unseen in train, typos', () => {
  const s = languageStats(300, 100, 600, 4);
  const total = Object.entries(s.templates).filter(([k]) => k !== 'caption' && k !== 'search').reduce((n, [, t]) => n + t.seen + t.heldOut, 0);
  assert.equal(total, QUESTION_TEMPLATES_V2.length);
  assert.ok(s.vocabulary.language2 > s.vocabulary.language1);
  assert.ok(s.unseen.words.length > 0 && s.unseen.unseenTokens > 0 && s.unseen.unseenTokens < s.unseen.testTokens);
  assert.ok(s.unseen.heldOutWithUnseen > 0 && s.unseen.heldOutWithUnseen <= s.unseen.heldOutQuestions);
  const t = s.typos;
  assert.equal(t.unknown + t.anotherWord, t.tried);
  assert.equal(t.corrected + t.miscorrected + t.uncorrected, t.unknown);
  assert.ok(t.unknown > 0.9 * t.tried, 'most slips are unknown words to a word-level tokenizer');
  assert.ok(t.corrected > 0.5 * t.unknown, `${t.corrected} of ${t.unknown} corrected`);
});
