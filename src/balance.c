/* balance: placeholder until implemented */
