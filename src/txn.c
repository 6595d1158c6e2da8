/* txn: placeholder until implemented */
