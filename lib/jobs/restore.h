#pragma once
// The `restore` command as a job (CONTRACT.md section 6; the steps are in
// lib/backup/restore.h), so it goes through the one door like every other write: the
// runner holds the maintainer lock and opens no connection meanwhile (DbAccess::kReplaces),
// and afterwards knows the database as sound (the backup was verified before it was put in
// place). A database known corrupt may be restored over: that is the recovery procedure,
// and the damaged file is kept as the pre-restore copy.
//
// No journal row is written: the restored file is the backup, byte for byte.
// report.output is what the command prints (restored ..., previous database kept as ...).
// Errors: those of RestoreBackup (Corrupt backup, Refused while in use, IoError, ...).

#include <memory>
#include <string>

#include "lib/backup/restore.h"
#include "lib/jobs/job.h"

namespace maintd {

std::shared_ptr<Job> MakeRestoreJob(std::string backup_path, RestoreOptions options);

}  // namespace maintd
