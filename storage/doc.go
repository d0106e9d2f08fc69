// Package storage keeps voucher images as evidence: an object store (the
// local filesystem by default, any S3-compatible service in production), a
// bbolt index of receipt records, and the retention that deletes each image
// after its time (180 days by default) unless a legal hold keeps it.
//
// # Basics
//
// A Keeper joins an ObjectStore and an Index. Keeper.Save writes the image
// and makes it durable before the index entry commits, so an index entry
// never points at a missing object; a crash between the two leaves at most
// an orphan object, which Keeper.Fsck finds and removes. The sweeper
// (Keeper.Run) deletes expired objects and then marks their records purged;
// the records keep their fields, hashes and decision for audit.
//
// # Caveats
//
// The Index is one bbolt file: one process opens it at a time. Object keys
// are "YYYY/MM/DD/<random id>": they sort by upload day and carry no buyer
// data.
package storage
