import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toUtf8Bytes } from 'ethers';
import { CATEGORY_NAMES, categoryId, categoryName, isCategoryName } from './categories';

test('a category id is the keccak256 of its name, as the contract expects', () => {
  assert.equal(categoryId('lab_results'), keccak256(toUtf8Bytes('lab_results')));
});

test('every category id maps back to its name, and foreign ids to nothing', () => {
  for (const name of CATEGORY_NAMES) assert.equal(categoryName(categoryId(name)), name);
  assert.equal(categoryName(categoryId('imaging').toUpperCase().replace('0X', '0x')), 'imaging');
  assert.equal(categoryName(keccak256(toUtf8Bytes('not_a_category'))), undefined);
});

test('only known names are categories', () => {
  assert.equal(isCategoryName('telehealth'), true);
  assert.equal(isCategoryName('Telehealth'), false);
  assert.equal(isCategoryName(42), false);
  assert.throws(() => categoryId('nope' as never), /unknown category: nope/);
});
