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
import { requireStatementTimeout } from "./require-statement-timeout";
import { setLocalOutsideTransaction } from "./set-local-outside-transaction";
import { statementTimeoutRisk } from "./statement-timeout-risk";
import { syntaxError } from "./syntax-error";
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
