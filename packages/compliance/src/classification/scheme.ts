import { ComplianceError } from '../errors.js'

/** How freely a document at a level may leave the editor. */
export type ExportRule = 'allowed' | 'with-reason' | 'forbidden'

/** What a classification level allows. A stricter rule always wins when rules are combined. */
export interface LevelRules {
  /** Whether invite links (bearer links anyone holding them can use) may be created. */
  readonly linkSharing: boolean
  /** Export to files (ODF, Markdown, …): freely, only with an audited reason, or never. */
  readonly export: ExportRule
  /** Whether devices may keep an offline copy (a local key store and document cache). */
  readonly offlineCopies: boolean
  /** Whether the document must have an organisation recovery key (no "lost key = lost record"). */
  readonly recoveryKeyRequired: boolean
  /** Shortest retention, in days from creation, that a retention policy must keep (0 = none). */
  readonly minRetentionDays: number
}

/** One level of a scheme, lowest first in {@link ClassificationScheme.levels}. */
export interface LevelDefinition {
  /** Stable id stored in markings, e.g. `K2`. */
  readonly id: string
  /** Name people see, e.g. `Betydande`. */
  readonly label: string
  /** What the level allows. */
  readonly rules: LevelRules
}

/**
 * An integrator's classification model: ordered levels (lowest first) with their rules, and
 * the rules that apply on top when a document carries a secrecy marking (sekretessmarkering).
 */
export interface ClassificationScheme {
  /** Name of the model, e.g. `MSB K/R/T`. */
  readonly name: string
  /** The levels, lowest first. */
  readonly levels: readonly LevelDefinition[]
  /** Rules combined (strictest wins) with the level's when a secrecy provision is marked. */
  readonly secrecyRules: LevelRules
}

const OPEN: LevelRules = {
  linkSharing: true,
  export: 'allowed',
  offlineCopies: true,
  recoveryKeyRequired: false,
  minRetentionDays: 0,
}

/**
 * The default: confidentiality levels of the Swedish MSB/KLASSA model, K0–K3 (consequence of
 * disclosure: försumbar, måttlig, betydande, allvarlig). No invite links at K3 (links are
 * allowed up to K2, as the research notes suggest), an audited reason to export from K2,
 * recovery key from K2, no offline copies at K3. A secrecy marking forbids links and needs a
 * reason to export whatever the level. Adjust with {@link defineScheme}.
 */
export const KRT_SCHEME: ClassificationScheme = {
  name: 'MSB K/R/T (confidentiality)',
  levels: [
    { id: 'K0', label: 'Försumbar', rules: OPEN },
    { id: 'K1', label: 'Måttlig', rules: OPEN },
    {
      id: 'K2',
      label: 'Betydande',
      rules: { ...OPEN, export: 'with-reason', recoveryKeyRequired: true },
    },
    {
      id: 'K3',
      label: 'Allvarlig',
      rules: {
        linkSharing: false,
        export: 'with-reason',
        offlineCopies: false,
        recoveryKeyRequired: true,
        minRetentionDays: 0,
      },
    },
  ],
  secrecyRules: { ...OPEN, linkSharing: false, export: 'with-reason', recoveryKeyRequired: true },
}

const ID = /^[A-Za-z0-9._-]{1,32}$/

/**
 * Check and return an integrator's scheme: at least one level, unique ids of `[A-Za-z0-9._-]`,
 * valid rules. Throws `invalid-argument`.
 *
 * @example
 * ```ts
 * const scheme = defineScheme({
 *   name: 'Kommun X',
 *   levels: [
 *     { id: 'open', label: 'Öppen', rules: { ...KRT_SCHEME.levels[0]!.rules } },
 *     { id: 'internal', label: 'Intern', rules: { ...KRT_SCHEME.levels[2]!.rules } },
 *   ],
 *   secrecyRules: KRT_SCHEME.secrecyRules,
 * })
 * ```
 */
export function defineScheme(scheme: ClassificationScheme): ClassificationScheme {
  const bad = (m: string) => new ComplianceError('invalid-argument', `scheme: ${m}`)
  if (scheme.levels.length === 0) throw bad('needs at least one level')
  const seen = new Set<string>()
  for (const level of scheme.levels) {
    if (!ID.test(level.id) || seen.has(level.id)) throw bad(`bad or repeated level id`)
    seen.add(level.id)
    checkRules(level.rules, bad)
  }
  checkRules(scheme.secrecyRules, bad)
  return scheme
}

function checkRules(r: LevelRules, bad: (m: string) => Error): void {
  if (!['allowed', 'with-reason', 'forbidden'].includes(r.export)) throw bad('bad export rule')
  if (!Number.isSafeInteger(r.minRetentionDays) || r.minRetentionDays < 0) {
    throw bad('minRetentionDays must be an integer >= 0')
  }
}

/** The level `id` of `scheme`; throws `unknown-level`. */
export function levelOf(scheme: ClassificationScheme, id: string): LevelDefinition {
  const level = scheme.levels.find((l) => l.id === id)
  if (level === undefined) {
    throw new ComplianceError('unknown-level', `level ${id} is not in scheme ${scheme.name}`)
  }
  return level
}
