import { analyzeScope } from "./analyze-scope";
import { backslashInString } from "./backslash-in-string";
import { dropIndexShape } from "./drop-index-shape";
import { concurrentUniqueIndex } from "./concurrent-unique-index";
import { duplicateIndexName } from "./duplicate-index-name";
import { existingInvalidIndex } from "./existing-invalid-index";
import { indexNameTooLong } from "./index-name-too-long";
import { nonIndexStatement } from "./non-index-statement";
import { partitionedTable } from "./partitioned-table";
import { psqlMetaCommand } from "./psql-meta-command";
import { preferIfExists } from "./prefer-if-exists";
import { preferIfNotExists } from "./prefer-if-not-exists";
import { redundantIndex } from "./redundant-index";
import { requireConcurrentIndexCreation } from "./require-concurrent-index-creation";
import { requireConcurrentIndexDeletion } from "./require-concurrent-index-deletion";
import { requireConcurrentReindex } from "./require-concurrent-reindex";
import { requireLockTimeout } from "./require-lock-timeout";
import { reindexScope } from "./reindex-scope";
import { requireStatementTimeout } from "./require-statement-timeout";
import { setLocalOutsideTransaction } from "./set-local-outside-transaction";
import { settingNotAllowed } from "./setting-not-allowed";
import { settingOutOfRange } from "./setting-out-of-range";
import { statementTimeoutRisk } from "./statement-timeout-risk";
import { syntaxError } from "./syntax-error";
import { systemCatalog } from "./system-catalog";
import { timeoutTooShort } from "./timeout-too-short";
import { transactionWrapper } from "./transaction-wrapper";
import { unknownColumn } from "./unknown-column";
import { unknownIgnoreRule } from "./unknown-ignore-rule";
import { unknownTable } from "./unknown-table";
import { unnamedIndex } from "./unnamed-index";

/** Every lint rule; the registry the linter, the CLI's --rules list and the docs are built from. */
export const RULES = [
  syntaxError,
  psqlMetaCommand,
  transactionWrapper,
  requireConcurrentIndexCreation,
  concurrentUniqueIndex,
  requireConcurrentIndexDeletion,
  requireConcurrentReindex,
  preferIfNotExists,
  preferIfExists,
  requireLockTimeout,
  requireStatementTimeout,
  statementTimeoutRisk,
  setLocalOutsideTransaction,
  settingNotAllowed,
  settingOutOfRange,
  reindexScope,
  dropIndexShape,
  analyzeScope,
  systemCatalog,
  backslashInString,
  unnamedIndex,
  duplicateIndexName,
  indexNameTooLong,
  nonIndexStatement,
  unknownIgnoreRule,
  unknownTable,
  unknownColumn,
  existingInvalidIndex,
  redundantIndex,
  partitionedTable,
  timeoutTooShort,
] as const;

export type RuleId = (typeof RULES)[number]["id"];
export const RULE_IDS: ReadonlySet<string> = new Set(RULES.map((r) => r.id));
