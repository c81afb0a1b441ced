import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SheetWorkbook } from './workbook.js'

function setup() {
  const s = new SheetWorkbook(new Y.Doc()).addSheet('S', { rows: 12, columns: 6 })
  // A1:A5 = 1..5, B1:B5 = names, C1:C3 = 10,20,30
  for (const [i, n] of [1, 2, 3, 4, 5].entries()) s.setCell(`A${i + 1}`, n)
  for (const [i, n] of ['apple', 'banana', 'cherry', 'date', 'elder'].entries()) {
    s.setCell(`B${i + 1}`, n)
  }
  for (const [i, n] of [10, 20, 30].entries()) s.setCell(`C${i + 1}`, n)
  s.setCell('D1', '  Hello  World ')
  s.setCell('D2', true)
  return s
}

const CASES: [string, unknown][] = [
  ['=SUM(A1:A5)', 15],
  ['=AVERAGE(A1:A5)', 3],
  ['=MIN(A1:A5)', 1],
  ['=MAX(A1:A5)', 5],
  ['=COUNT(A1:B5)', 5],
  ['=COUNTA(A1:B5)', 10],
  ['=IF(A1>0,"pos","neg")', 'pos'],
  ['=AND(TRUE,A1=1)', true],
  ['=OR(FALSE,A2=1)', false],
  ['=NOT(D2)', false],
  ['=ROUND(2.345,2)', 2.35],
  ['=ROUNDUP(2.341,2)', 2.35],
  ['=ROUNDDOWN(2.349,2)', 2.34],
  ['=ABS(-4)', 4],
  ['=SQRT(16)', 4],
  ['=POWER(2,10)', 1024],
  ['=MOD(10,3)', 1],
  ['=INT(-2.5)', -3],
  ['=CONCATENATE(B1,"-",A1)', 'apple-1'],
  ['=CONCAT("a","b")', 'ab'],
  ['=LEFT(B2,3)', 'ban'],
  ['=RIGHT(B2,2)', 'na'],
  ['=MID(B3,2,3)', 'her'],
  ['=LEN(B1)', 5],
  ['=UPPER(B1)', 'APPLE'],
  ['=LOWER("ABC")', 'abc'],
  ['=TRIM(D1)', 'Hello World'],
  ['=SUBSTITUTE(B2,"a","o")', 'bonono'],
  ['=FIND("n",B2)', 3],
  ['=VLOOKUP(3,A1:B5,2,FALSE)', 'cherry'],
  ['=HLOOKUP(2,A1:A5,3,FALSE)', { error: '#N/A' }],
  ['=INDEX(A1:C3,2,3)', 20],
  ['=MATCH(4,A1:A5,0)', 4],
  ['=SUMIF(A1:A5,">2")', 12],
  ['=COUNTIF(A1:A5,"<3")', 2],
  ['=AVERAGEIF(A1:A5,">3")', 4.5],
  ['=IFERROR(1/0,"bad")', 'bad'],
  ['=YEAR(DATE(2024,3,15))', 2024],
  ['=MONTH(DATE(2024,3,15))', 3],
  ['=DAY(DATE(2024,3,15))', 15],
  ['=MEDIAN(A1:A5)', 3],
  ['=STDEV(A1:A5)', Math.sqrt(2.5)],
  ['=PRODUCT(A1:A5)', 120],
  ['=TEXT(0.256,"0.0%")', '25.6%'],
  ['=SUMPRODUCT(A1:A3,C1:C3)', 140],
  ['=LN(1)', 0],
  ['=EXP(0)', 1],
  ['=PI()>3.14', true],
  ['=SIGN(-3)', -1],
  ['=REPT("ab",3)', 'ababab'],
  ['=ISNUMBER(A1)', true],
  ['=ISBLANK(F9)', true],
  ['=EXACT("a","A")', false],
  ['=PROPER("hello world")', 'Hello World'],
  ['=CHOOSE(2,"x","y","z")', 'y'],
  ['=LARGE(A1:A5,2)', 4],
  ['=SMALL(A1:A5,2)', 2],
  ['=COUNTBLANK(E1:E4)', 4],
  ['=1/0', { error: '#DIV/0!' }],
  ['=NOSUCH(1)', { error: '#NAME?' }],
  ['=2^3*2-1', 15],
  ['=-2^2', 4],
  ['=50%*A2', 1],
  ['="a"&1&TRUE', 'a1TRUE'],
  ['=(1+2)*3<>9', false],
  ['="B"<"a"', false],
]

describe('formula functions (formulajs)', () => {
  it(`covers ${CASES.length} known values`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50)
    const s = setup()
    for (const [f, want] of CASES) {
      s.setFormula('F12', f)
      const got = s.getValue('F12')
      if (typeof want === 'number') expect(got, f).toBeCloseTo(want, 9)
      else expect(got, f).toEqual(want)
    }
  })
})
