/* pool: placeholder until implemented */
